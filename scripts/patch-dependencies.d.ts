/** One replacement of exact text in files of a dependency. */
export interface DependencyFix {
  name: string;
  files: string[];
  from: string;
  to: string;
}

/** The fixes, in the order they are applied. */
export const FIXES: readonly DependencyFix[];

/** Applies the fixes to dependencies under `root` (default: the project). */
export function patchDependencies(root?: string): void;
