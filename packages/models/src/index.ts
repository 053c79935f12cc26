export { stages } from './stages.js';
export { commands } from './commands.js';
