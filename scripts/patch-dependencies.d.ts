/** Applies the fixes to dependencies under `root` (default: the project). */
export function patchDependencies(root?: string): void;
