/**
 * The two hashes resumable uploads take from hash-wasm, re-exported by name: imported dynamically,
 * this module lets the bundler keep hash-wasm's MD5 and SHA-256 alone (its index holds some thirty
 * algorithms, and a dynamic `import('hash-wasm')` is not tree-shaken).
 */
export { createMD5, createSHA256 } from 'hash-wasm';
