import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

// Node-RED only finds icons in an `icons` folder beside each node's .js file.
function copyIcons(): void {
  if (!existsSync('icons')) return;
  mkdirSync('nodes/icons', { recursive: true });
  cpSync('icons', 'nodes/icons', { recursive: true });
}

const nodeEntries = readdirSync('src/nodes')
  .filter((f) => f.endsWith('.ts') && f.startsWith('sagemaker-'))
  .map((f) => `src/nodes/${f}`);

const shared = {
  format: ['cjs'] as const,
  target: 'node18' as const,
  platform: 'node' as const,
  dts: false,
  sourcemap: false,
  splitting: false,
  // Shipped in every install: minified to keep the install small (README, Install: the
  // footprint). No `keepNames`: it renames every closure at run time (an Object.defineProperty
  // per closure, two per message in sagemaker-invoke, ~3 µs), and the error names are set in
  // the code.
  esbuildOptions(options: { minifyWhitespace?: boolean; minifySyntax?: boolean; minifyIdentifiers?: boolean }) {
    options.minifyWhitespace = true;
    options.minifySyntax = true;
    options.minifyIdentifiers = true;
  },
  // The AWS SDK clients, @smithy/signature-v4 (the SigV4 signer) and @smithy/core (the
  // emulator's event-stream codec) are dependencies, installed by the clients anyway; other
  // @smithy helpers would be bundled.
  external: ['node-red', /^@aws-sdk\//, '@smithy/types', '@smithy/signature-v4', /^@smithy\/core(\/|$)/],
  noExternal: [/^@smithy\/(?!types$|signature-v4$|core(\/|$))/],
};

export default defineConfig([
  {
    ...shared,
    entry: nodeEntries,
    outDir: 'nodes',
    // The committed editor .html and locale files live in nodes/ too.
    clean: false,
    onSuccess: async () => copyIcons(),
  },
  {
    // The pure modules, one file each, for the unit tests in test/unit.
    ...shared,
    entry: ['src/lib/**/*.ts'],
    outDir: 'dist/lib',
    bundle: false,
    clean: true,
  },
  {
    // The editor's shared script: the runtime's field rules plus the forms' helpers, served by
    // Node-RED from resources/ (see src/editor/sagemaker-editor.ts).
    entry: { 'sagemaker-editor': 'src/editor/sagemaker-editor.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'es2018',
    outDir: 'resources',
    outExtension: () => ({ js: '.js' }),
    dts: false,
    sourcemap: false,
    clean: true,
  },
  {
    ...shared,
    entry: { index: 'src/emulator/index.ts', cli: 'src/emulator/cli.ts' },
    outDir: 'dist/emulator',
    clean: true,
    // The CLI's `import … from './index'` stays a require of the bundle beside it, so the
    // emulator ships once, not twice (only cli.ts imports './index').
    external: [...shared.external, './index'],
  },
]);
