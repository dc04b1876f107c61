import type {TaskManager} from '../tasks/manager.js'

/**
 * The set-up steps of an attached task (worktree, copies, patches) as a listr2 task list on a
 * terminal: a spinner with the current step, then a check mark. Failures propagate to the caller
 * (the task is already marked failed).
 */
export async function prepareWithProgress(manager: TaskManager, taskId: string): Promise<void> {
  const {Listr} = await import('listr2')
  const list = new Listr(
    [
      {
        title: 'Setting up the workspace',
        task: async (_ctx, step) => {
          const off = manager.onEvent((event) => {
            if (event.type === 'progress' && event.taskId === taskId) step.output = event.message
          })
          try {
            const task = await manager.prepareWorkspace(taskId)
            step.title = `Workspace ready: ${task.worktreePath}${task.branch ? ` (branch ${task.branch})` : ''}`
          } finally {
            off()
          }
        },
      },
    ],
    {exitOnError: true, rendererOptions: {collapseErrors: false}},
  )
  await list.run()
}
