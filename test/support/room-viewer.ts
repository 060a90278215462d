/**
 * One client screen for the reconnect tests: every message it received (by cursor), folded through the
 * client's own reducers (client/room-state.ts), so "nothing shown twice" is checked on what a user sees.
 */
import assert from 'node:assert/strict';
import { addSuggestion, applySnapshot, applyTick, compareCursor, EMPTY_ROOM, upsertWindow, withCursor, type RoomState } from '../../client/room-state.ts';
import { join, type TestCrest, type TestSocket } from './crest.ts';

export class RoomViewer {
  state: RoomState = EMPTY_ROOM;
  readonly cursors: string[] = [];
  socket: TestSocket | null = null;
  /** Messages the joins replayed, over every reconnect. */
  replayed = 0;

  constructor(
    private readonly crest: TestCrest,
    private readonly room: string,
  ) {}

  /** Connects and joins with the last cursor seen (none the first time); returns what the join replayed. */
  async connect(): Promise<number> {
    const s = await this.crest.socket(this.crest.token('operator', [this.room]));
    this.socket = s;
    s.on('room:tick', (m) => {
      this.cursors.push(m.cursor);
      this.state = applyTick(withCursor(this.state, m.cursor), m.tick);
    });
    s.on('window:update', (m) => {
      this.cursors.push(m.cursor);
      this.state = upsertWindow(withCursor(this.state, m.cursor), m.window);
    });
    s.on('suggestion:new', (m) => {
      this.cursors.push(m.cursor);
      this.state = addSuggestion(withCursor(this.state, m.cursor), m.suggestion);
    });
    const res = await join(s, this.room, this.state.cursor ?? undefined);
    assert.ok(res.ok, JSON.stringify(res));
    this.state = applySnapshot(this.state, res.snapshot);
    this.replayed += res.replayed;
    return res.replayed;
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = null;
  }

  /** The newest cursor received. */
  last(): string {
    return this.cursors.reduce((a, b) => (compareCursor(a, b) >= 0 ? a : b), '0-0');
  }
}
