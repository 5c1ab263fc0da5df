// The hub's CustomResourceDefinitions (issue #6): MemberCluster (cluster-scoped: how the
// hub reaches a cluster, memberCluster.ts) and HotRelease (namespaced: one image rolled
// out over member clusters in steps, hotRelease.ts and steps.ts), built from the schema
// helpers of controller/api/schema.ts and the pieces in common.ts. The shapes follow
// types.ts (crd.test.ts fails when they drift); `npm run crds` writes the YAML the chart
// installs; docs/crd-reference.md is the user's reference.
//
// Every user action is a change of spec the API server can check: approve (spec.approved),
// pause and resume (spec.paused), abort (spec.abort), roll back (spec.rollback). So the
// hub controller can be level-triggered: it compares spec with what it observes and never
// needs to remember a command.
export { MAX_CLUSTER_NAMES, MAX_STEP_CLUSTERS, MAX_STEPS } from './common.ts';
export { hotReleaseCrd, hotReleaseCrdManifest } from './hotRelease.ts';
export { memberClusterCrd, memberClusterCrdManifest } from './memberCluster.ts';
