/**
 * Every workflow type of the project, as the worker bundles them. Workflow code is deterministic
 * orchestration only: no I/O, no Node built-ins (lint-enforced); it calls activities by type.
 */
export { harvest } from './harvest';
