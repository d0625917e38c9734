/** What a type-test check found; see type-tests.cjs. */
export interface TypeTestResult {
  /** The workspace files the program read besides the tests: the built declarations. */
  declarations: string[];
  /** Errors as the files are written; an unused `@ts-expect-error` is one. */
  diagnostics: string[];
  /** How many `@ts-expect-error <code>` lines there are. */
  expected: number;
  /** Directive lines that, with the directive removed, do not fail with their code. */
  missing: string[];
  /** Errors, with the directives removed, on lines that have no directive. */
  unexpected: string[];
}

/** Compile type-test files as a user's project would (`bundler`, `node16`, or `node16-cjs` for CommonJS). */
export function checkTypeTests(options: { files: string[]; setting?: 'bundler' | 'node16' | 'node16-cjs' }): TypeTestResult;

/** The member names of `interface <name>` in a declaration file, as written. */
export function interfaceKeys(file: string, name: string): string[];

/** The event names in the first column of the table after `heading` in a README. */
export function documentedEvents(readme: string, heading: string): string[];
