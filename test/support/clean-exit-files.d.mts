/** Test files test/run.mjs runs without --test-force-exit (see the .mjs). */
export declare const CLEAN_EXIT_FILES: string[];
