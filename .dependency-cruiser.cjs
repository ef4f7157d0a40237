/**
 * Dependencies point one way (docs/architecture.md, "Layers"):
 *
 *   domain ← store ← use cases ← http / api / ports ← functions ← infra
 *
 * A module may import its own layer and the layers to its left, never one to its right. Use cases reach the
 * adapters only through `Deps` (shared/deps.ts builds them): they may import the port and Deps *types*, not the
 * modules that load an SDK. The HTTP wrapper goes through the use cases for records (no store import).
 * Modules of no layer: shared/log.ts, clock.ts, ids.ts, config.ts (any layer may use them; they import none).
 * `npm run lint` runs this (`depcruise --config .dependency-cruiser.cjs shared functions infra`);
 * test/unit/dependency-rules.test.ts shows each rule failing on a wrong-way import.
 */
const DOMAIN = '^shared/domain/';
/** Pure helpers the domain may use: the caller's shape. */
const DOMAIN_LEVEL = ['^shared/domain/', '^shared/auth/caller[.]ts$'];
const STORE = '^shared/store/';
const USECASES = '^shared/(usecases|notifications)/|^shared/auth/authority[.]ts$';
const PORTS = '^shared/(ports/|deps[.]ts$)';
const HTTP = '^shared/(http|api)/';
const FUNCTIONS = '^functions/';
const INFRA = '^infra/';
const NEUTRAL = '^shared/(log|clock|ids|config)[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'shared/domain imports only the domain, zod and node:crypto/zlib: no store, port, SDK or I/O',
      severity: 'error',
      from: { path: DOMAIN },
      to: {
        pathNot: [...DOMAIN_LEVEL, '^node_modules/zod/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'domain-core-modules',
      comment: 'the domain computes: of the node modules, only crypto (hashes) and zlib (the verifier reads gzip)',
      severity: 'error',
      from: { path: DOMAIN },
      to: { dependencyTypes: ['core'], pathNot: ['^(node:)?(crypto|zlib)$'] },
    },
    {
      name: 'neutral-modules-import-no-layer',
      comment: 'log, clock, ids and config are used by every layer, so they import none of them',
      severity: 'error',
      from: { path: NEUTRAL },
      to: { path: '^(shared|functions|infra)/', pathNot: NEUTRAL },
    },
    {
      name: 'store-below-use-cases',
      comment: 'the store knows records, not use cases, HTTP, adapters, functions or infra',
      severity: 'error',
      from: { path: STORE },
      to: { path: [USECASES, HTTP, FUNCTIONS, INFRA, '^shared/deps[.]ts$'] },
    },
    {
      name: 'store-uses-port-types-only',
      comment: 'the store may name a port type (an outbox event), never load an adapter',
      severity: 'error',
      from: { path: STORE },
      to: { path: PORTS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'use-cases-below-http',
      comment: 'use cases know neither the HTTP wrapper, the contract and route table, the functions nor infra',
      severity: 'error',
      from: { path: USECASES },
      to: { path: [HTTP, FUNCTIONS, INFRA] },
    },
    {
      name: 'use-cases-reach-adapters-through-deps',
      comment: 'use cases import the Deps and port types; the adapters (and their SDKs) are built in shared/deps.ts',
      severity: 'error',
      from: { path: USECASES },
      to: { path: PORTS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-sdk-in-use-cases',
      comment: 'an AWS SDK is loaded by an adapter in shared/ports (lazily), or by the store (DynamoDB)',
      severity: 'error',
      from: { path: [DOMAIN, USECASES, HTTP] },
      to: { path: '^node_modules/@aws-sdk/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'http-through-use-cases',
      comment: 'the HTTP wrapper reads and writes records through the use cases (shared/usecases/idempotency.ts)',
      severity: 'error',
      from: { path: HTTP },
      to: { path: STORE, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'shared-below-functions',
      comment: 'shared/ is what the functions are made of: it never imports a function or infra',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: [FUNCTIONS, INFRA] },
    },
    {
      name: 'functions-below-infra',
      comment: 'a function never imports the CDK app or the local runtime',
      severity: 'error',
      from: { path: FUNCTIONS },
      to: { path: INFRA },
    },
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      from: { path: '^(shared|functions|infra)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve is a typo (or a missing dependency)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk[.]out|docs)/' },
    // Type-only imports count (and are told apart from the others by the rules above).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    combinedDependencies: false,
    cache: false,
  },
};
