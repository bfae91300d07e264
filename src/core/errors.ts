/**
 * Typed chat errors. Every error a person can cause has a stable code; each protocol
 * maps codes to its own wire form (a line-protocol sentence, an IRC numeric, a JSON error).
 */
export const ErrorCode = {
  NameInvalid: 'name_invalid',
  NameInUse: 'name_in_use',
  NameRequired: 'name_required',
  RoomInvalid: 'room_invalid',
  NoSuchRoom: 'no_such_room',
  /** A rename to a name another room has (members, kept settings or history). */
  RoomNameInUse: 'room_name_in_use',
  /** A rename the server does not make (the default room, a name the same as before). */
  CannotRename: 'cannot_rename',
  NoSuchUser: 'no_such_user',
  NotInRoom: 'not_in_room',
  AlreadyInRoom: 'already_in_room',
  TooManyRooms: 'too_many_rooms',
  NeedOp: 'need_op',
  Banned: 'banned',
  RoomFull: 'room_full',
  InviteOnly: 'invite_only',
  BadKey: 'bad_key',
  Moderated: 'moderated',
  NoExternal: 'no_external',
  TextEmpty: 'text_empty',
  NotRegistered: 'not_registered',
  NotIdentified: 'not_identified',
  PermissionDenied: 'permission_denied',
  BadRequest: 'bad_request',
  /** A search with no word to look for, or too many. */
  BadQuery: 'bad_query',
  UnknownCommand: 'unknown_command',
  Flood: 'flood',
  /** History cannot be saved (disk full, database down): messages are refused, not lost. */
  StoreUnavailable: 'store_unavailable',
  /** The other servers of a cluster cannot be reached: the event would not reach everyone. */
  BusUnavailable: 'bus_unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** What the error is about (a name or a room), for protocols that echo it (IRC numerics). */
    readonly target?: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/**
 * A join the bus did not send: the room changed under this node's replica after the join
 * was checked against it (a rename moved another room onto the name, or Redis lost the
 * room), and the replica has been read again since. The join is checked against the room
 * as it is now and sent again (membership.ts); nobody is shown this.
 */
export class RoomChangedError extends Error {
  constructor(readonly room: string) {
    super(`${room} changed under this node's replica; check the join again`);
    this.name = 'RoomChangedError';
  }
}
