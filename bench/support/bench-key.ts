/** The API key the gateway benchmark's gateway accepts and its load sends. */
export const BENCH_KEY = "bench-key-0123456789abcdef";
