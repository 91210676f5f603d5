import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const services = ['ingest', 'identity', 'enrichment', 'recommendation', 'renderer', 'delivery'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'libs/testing/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'import-x/no-cycle': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@mesh/*/*'],
              message: 'Import a lib through its alias only (@mesh/<lib>), never a file inside it.',
            },
            {
              regex: '^(\\.\\./)+(libs|apps)/',
              message: 'Reach libs through @mesh/<lib>; apps talk to each other only over NATS.',
            },
          ],
        },
      ],
    },
  },
  // Jest's global setup runs the build output, untyped: no type-aware rules there.
  { files: ['libs/testing/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // An app never imports another app: each app may only reach its own folder and the libs.
  ...services.map((service) => ({
    files: [`apps/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@mesh/*/*'], message: 'Import a lib through its alias only (@mesh/<lib>).' },
            {
              regex: '^(\\.\\./)+(libs|apps)/',
              message: 'Reach libs through @mesh/<lib>; apps talk to each other only over NATS.',
            },
            ...services
              .filter((other) => other !== service)
              .map((other) => ({
                // Up out of this app into a sibling (`../../delivery/…`), or through `apps/` itself.
                regex: `(^|/)apps/${other}(/|$)|^(\\.\\./)+${other}/`,
                message: `apps/${service} must not import apps/${other}: services talk only over NATS subjects.`,
              })),
          ],
        },
      ],
    },
  })),
  // A service's benchmark measures that service's own code paths: bench/<svc> may import apps/<svc>, no other app.
  ...services.map((service) => ({
    files: [`bench/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@mesh/*/*'], message: 'Import a lib through its alias only (@mesh/<lib>).' },
            { regex: '^(\\.\\./)+libs/', message: 'Reach libs through @mesh/<lib>.' },
            ...services
              .filter((other) => other !== service)
              .map((other) => ({
                regex: `(^|/)apps/${other}(/|$)`,
                message: `bench/${service} measures apps/${service} only.`,
              })),
          ],
        },
      ],
    },
  })),
  // libs never import apps.
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@mesh/*/*'], message: 'Import a lib through its alias only (@mesh/<lib>).' },
            { regex: '(^|/)apps/', message: 'libs never import apps.' },
            { regex: '^(\\.\\./)+(libs)/', message: 'Reach another lib through @mesh/<lib>.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'],
    rules: {
      // Test doubles implement async contracts without always awaiting anything.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
