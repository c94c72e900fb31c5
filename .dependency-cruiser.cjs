// The dependency rule between tiers (docs/architecture.md, "Seams"), checked by `npm run lint:deps`.
// TypeScript here is version 7 (the native compiler), whose package has no compiler API that
// dependency-cruiser can load, so it parses .ts with swc (@swc/core), which it supports natively.

const TIERS = '(api|meeting|push|media|files|gateway-sip)';
const CONTRACT = `^${TIERS}/contract\\.ts$`;
// Tests beside the code compose real implementations (a repository as a fake store, the shared
// test harness), like the wiring does: they are composition roots, not tier code.
const TEST = '\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'tier-imports-contracts-only',
      comment:
        'A tier may import itself, common/, protocol/, audio/, npm packages and the contract.ts of another tier: nothing else of another tier, and never main.ts, wiring.ts, test/, loadtest/, sdk/ or web/.',
      severity: 'error',
      from: { path: `^${TIERS}/`, pathNot: TEST },
      to: {
        dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: ['^$1/', '^(common|protocol|audio)/', CONTRACT],
      },
    },
    {
      name: 'contract-imports-contracts-only',
      comment: "A contract is what other tiers see: it may import common/, protocol/, other contracts and npm packages, never its own tier's implementation.",
      severity: 'error',
      from: { path: CONTRACT },
      to: {
        dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: ['^(common|protocol)/', CONTRACT],
      },
    },
    {
      name: 'shared-code-imports-no-tier',
      comment: 'common/, protocol/ and audio/ are below every tier: they import no tier, nor the wiring, tests, SDK or web client.',
      severity: 'error',
      from: { path: '^(common|protocol|audio)/', pathNot: TEST },
      to: { path: [`^${TIERS}/`, '^(sdk|web|test|loadtest)/', '^(main|wiring)\\.ts$'] },
    },
    {
      name: 'sdk-is-self-contained',
      comment: 'The SDK is published on its own: it imports only itself, the protocol package and npm packages.',
      severity: 'error',
      from: { path: '^sdk/', pathNot: TEST },
      to: {
        dependencyTypesNot: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: ['^sdk/', '^protocol/', '^react-native-webrtc$'],
      },
    },
    {
      name: 'web-client-uses-the-sdk',
      comment: 'The web client talks to the server only through the SDK and the protocol.',
      severity: 'error',
      from: { path: '^web/src/' },
      to: {
        dependencyTypesNot: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: ['^web/src/', '^sdk/', '^protocol/'],
      },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would hide a dependency from every rule above.',
      severity: 'error',
      from: {},
      // react-native-webrtc is only declared (sdk/examples/react-native is type-checked, never installed).
      to: { couldNotResolve: true, pathNot: '^react-native-webrtc$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // deploy/tools installs its own dependencies outside the project (deploy/README.md).
    exclude: { path: ['(^|/)(node_modules|dist)/', '^deploy/tools/'] },
    parser: 'swc',
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      exportsFields: ['exports'],
      // '@convene/source': the workspace packages' TypeScript sources, as tsc, vitest and esbuild see them.
      conditionNames: ['@convene/source', 'import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
