// The one book of commands in flight: every `command` message the page sends takes its id here,
// and its `command_result` goes back to the part that sent it (a form or a transport button).

let nextId = 1;

/**
 * @typedef {object} CommandBook
 * @property {(prefix: string, onResult: (msg: import("./messages.js").CommandResult) => void) => string} add
 *   a fresh id whose result `onResult` receives (once)
 * @property {(id: string) => void} drop  forget an id whose command was never sent
 * @property {(msg: import("./messages.js").CommandResult) => boolean} onResult
 *   hand a result to its sender; false when no part here sent it
 */

/** @returns {CommandBook} */
export function createCommands() {
  /** @type {Map<string, (msg: import("./messages.js").CommandResult) => void>} */
  const pending = new Map();
  return {
    add(prefix, onResult) {
      const id = `${prefix}-${nextId++}`;
      pending.set(id, onResult);
      return id;
    },
    drop(id) {
      pending.delete(id);
    },
    onResult(msg) {
      const done = pending.get(msg.id);
      if (done === undefined) return false;
      pending.delete(msg.id);
      done(msg);
      return true;
    },
  };
}
