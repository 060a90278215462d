/**
 * What every screen fed by the room's socket shares: its connection state and error, its language; a room
 * screen adds the room, its token and how far each acknowledgement got. The app sets them all.
 */
import { LitElement, type PropertyDeclarations } from 'lit';
import type { AckStatus, ConnState } from './connection-controller.ts';
import type { I18n } from './i18n.ts';

export class LiveView extends LitElement {
  static override properties: PropertyDeclarations = {
    state: {},
    error: {},
    i18n: { attribute: false },
  };
  declare state: ConnState;
  declare error: string | null;
  declare i18n: I18n;

  constructor() {
    super();
    this.state = 'connecting';
    this.error = null;
  }
}

export class RoomView extends LiveView {
  static override properties: PropertyDeclarations = {
    roomId: { attribute: 'room-id' },
    token: {},
    ackStatus: { attribute: false },
  };
  declare roomId: string;
  declare token: string | null;
  declare ackStatus: ReadonlyMap<string, AckStatus>;

  constructor() {
    super();
    this.roomId = '';
    this.token = null;
    this.ackStatus = new Map();
  }
}
