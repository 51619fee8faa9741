// What the kernel imports from its host (lib/kernel/wasm-kernel.ts).

/** lib/tokenize.ts's wordClass of a code point >= 0x80. */
@external('env', 'wordClass')
export declare function hostWordClass(cp: i32): i32;
