// Undo and redo for the editor: snapshots of the draft before each change,
// bounded (`LIMIT`). A run of changes with the same `key` (typing in one
// field, one drag) is one step.

/** Most undo steps kept (older ones are dropped). */
export const LIMIT = 100;

const copy = (state) => structuredClone(state);

export class History {
  constructor(limit = LIMIT) {
    this.limit = limit;
    this.past = [];
    this.future = [];
    this.lastKey = null;
  }

  /**
   * Call before changing `state`: keeps a copy to return to. With the same
   * non-null `key` as the previous call, the change joins that step.
   */
  record(state, key = null) {
    if (key !== null && key === this.lastKey) return;
    this.past.push(copy(state));
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.lastKey = key;
  }

  /** Ends the current run: the next change with the same key is a new step. */
  seal() {
    this.lastKey = null;
  }

  get canUndo() {
    return this.past.length > 0;
  }

  get canRedo() {
    return this.future.length > 0;
  }

  /** The state before `current`, or null; `current` becomes redoable. */
  undo(current) {
    if (!this.past.length) return null;
    this.future.push(copy(current));
    this.lastKey = null;
    return this.past.pop();
  }

  /** The state undone last, or null; `current` becomes undoable. */
  redo(current) {
    if (!this.future.length) return null;
    this.past.push(copy(current));
    this.lastKey = null;
    return this.future.pop();
  }
}
