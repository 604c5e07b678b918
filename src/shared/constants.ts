/** The task queue every harvest workflow and activity runs on (docs/architecture.md §8). */
export const TASK_QUEUE = 'dedl-harvest';

/** Workflow type names, as `temporal workflow start --type` takes them. */
export const WORKFLOW_TYPES = { harvest: 'harvest' } as const;
