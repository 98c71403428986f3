/** Compiles the apps and libraries to dist/ (or `outDir`); resolves how many files it wrote. */
export function build(outDir?: string): Promise<number>;
