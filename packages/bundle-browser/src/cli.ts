import { writeBrowserModule } from './index';

const USAGE = `usage: primus-bundle-browser <entry> <output> [exportName] [--alias <pkg>=<file>]... [--mangle-private]

Bundles <entry> (TypeScript or JavaScript) for the browser into one minified ES2018 expression
whose value is an object of the entry's named exports, and writes <output> as a module that
exports that source as a string constant named exportName (default: source).

  --alias <pkg>=<file>     bundle <file> wherever <pkg> is imported
  --define <name>=<value>  replace the global <name> with the JavaScript literal <value>
  --mangle-private         shorten properties starting with "_" (self-contained code only)`;

function usage(message?: string): never {
  if (message) console.error(`primus-bundle-browser: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

const positional: string[] = [];
const alias: Record<string, string> = {};
const define: Record<string, string> = {};
let manglePrivate = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--help' || arg === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (arg === '--mangle-private') manglePrivate = true;
  else if (arg === '--alias') {
    const [pkg, file] = (args[++i] ?? '').split('=');
    if (!pkg || !file) usage('--alias expects <pkg>=<file>');
    alias[pkg] = file;
  } else if (arg === '--define') {
    const value = args[++i] ?? '';
    const eq = value.indexOf('=');
    if (eq < 1 || eq === value.length - 1) usage('--define expects <name>=<value>');
    define[value.slice(0, eq)] = value.slice(eq + 1);
  } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
  else positional.push(arg);
}
const [entry, output, exportName = 'source', ...rest] = positional;
if (!entry || !output) usage();
if (rest.length) usage(`unexpected argument ${rest[0]}`);

writeBrowserModule({ entry, output, exportName, alias, define, manglePrivate }).then(
  ({ bytes, gzipped }) => console.log(`${entry}: ${bytes} bytes minified, ${gzipped} gzipped`),
  (err: Error & { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }) => {
    // esbuild's failures carry one entry per problem, with the file and line.
    const lines = err.errors?.length ? err.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)) : [err.message];
    for (const line of lines) console.error(`primus-bundle-browser: ${line}`);
    process.exit(1);
  },
);
