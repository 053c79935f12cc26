/** Messages a task-runner child (`task-main.ts`) sends its parent over the IPC channel. */
export type TaskMessage =
  | { type: 'started' }
  | { type: 'progress'; done: number; total: number; note?: string }
  | { type: 'done'; outcome: 'ran' | 'cached' | 'cachedByOther' }
  | { type: 'failed'; reason: string };

/** Messages the local executor sends an idle task-runner child: run this task next. */
export type WorkerMessage = { type: 'run'; key: string };
