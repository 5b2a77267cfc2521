/**
 * Control words shared by a RealtimeThread and its thread. A module of its
 * own: the thread's entry must not be imported by the API, as the user's
 * module imports 'ktimers' from inside the entry's top-level await (a cycle
 * through a module still evaluating never settles).
 * @internal
 */
export const R_STATE = 0; // 0 starting, 1 tid reported
export const R_TID = 1;
export const R_GO = 2; // 0 wait, 1 run, 2 give up
export const R_WORDS = 3;
