import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['node_modules/', 'certs/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Arrows point one way (README, "Map"): no import cycles, and each layer imports only what is below it.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: [
        { target: './src/iso8583', from: './src', except: ['./iso8583'], message: 'the codec and its vocabulary are a leaf' },
        { target: './src/observability', from: ['./src/channels/atm', './src/admin', './src/cli', './src/client', './src/loadgen', './src/transport'],
          message: 'observability is imported by the switch, never the other way' },
        { target: './src/security', from: ['./src/channels/atm', './src/ledger', './src/journal', './src/transport', './src/admin', './src/cli', './src/config'],
          message: 'security (MACs, keys) depends on nothing above it' },
        { target: './src/transport', from: ['./src/channels/atm', './src/ledger', './src/journal', './src/admin', './src/cli', './src/client', './src/loadgen'],
          message: 'transport moves frames and knows nothing of the switch' },
        { target: ['./src/ledger', './src/journal'], from: ['./src/channels/atm', './src/transport', './src/admin', './src/cli', './src/client', './src/loadgen'],
          message: 'the ledger and the journal are below the channels' },
        { target: './src/inquiry', from: ['./src/iso8583', './src/channels', './src/transport', './src/admin', './src/cli'],
          message: 'the inquiry core is channel-neutral: it imports neither the codec nor any channel' },
        { target: ['./src/ledger', './src/journal'], from: './src/inquiry', message: 'the core is above the ledger and the journal' },
        { target: ['./src/ledger', './src/journal'], from: './src/iso8583',
          message: 'below the core, so codec-free: the channel masks the PAN before the journal gets it' },
        { target: ['./src/client', './src/loadgen'], from: ['./src/channels/atm', './src/admin', './src/cli'],
          message: 'the partner side speaks the vocabulary (src/iso8583/vocabulary), not the switch' },
      ] }],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
