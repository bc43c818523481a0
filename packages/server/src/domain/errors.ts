// The error catalogue: every error the engine answers with has a stable Hubster-style code here.
// One place (src/api/errors.ts) turns a HooksterError into an HTTP response; nothing else formats errors.

export interface ErrorItem {
  /** Integer part of the catalogue code, e.g. 301 for PRT000301 (hubster-wire §5.3). */
  code: number;
  /** Human text, ending with "(code: PRT000301)". */
  description: string;
}

export const ErrorCodes = {
  // generic
  SystemError: { code: 'PRT000100', status: 500, text: 'An unexpected error occurred.' },
  Forbidden: { code: 'PRT000101', status: 403, text: 'Forbidden.' },
  Busy: { code: 'PRT000103', status: 503, text: 'The database is busy: try again shortly.' },
  DatabaseUnreachable: {
    code: 'PRT000107',
    status: 503,
    text: 'The database cannot be reached: try again shortly.',
  },
  Unavailable: {
    code: 'PRT000104',
    status: 503,
    text: 'The engine accepts no changes: its database could not be synced to disk.',
  },
  Unauthorized: { code: 'PRT000102', status: 401, text: 'Unauthorized: a valid bearer token is required.' },
  NotFound: { code: 'PRT000105', status: 404, text: 'Resource not found.' },
  AlreadyExists: { code: 'PRT000106', status: 409, text: 'Resource already exists.' },
  UpdateConflict: {
    code: 'PRT000108',
    status: 409,
    text: 'The resource kept changing under concurrent updates: read it and send the update again.',
  },
  PayloadTooLarge: { code: 'PRT000111', status: 413, text: 'Request body is too large.' },
  UnsupportedMediaType: { code: 'PRT000112', status: 415, text: 'Unsupported content type.' },
  MethodNotAllowed: { code: 'PRT000113', status: 405, text: 'Method not allowed.' },
  // query / parameter format (400)
  InvalidGuid: { code: 'PRT000200', status: 400, text: 'Invalid GUID.' },
  InvalidDate: { code: 'PRT000201', status: 400, text: 'Invalid date.' },
  InvalidRange: { code: 'PRT000202', status: 400, text: 'Value out of range.' },
  InvalidNumber: { code: 'PRT000205', status: 400, text: 'Invalid number.' },
  InvalidEmail: { code: 'PRT000206', status: 400, text: 'Invalid e-mail address.' },
  // body (400)
  MissingBody: { code: 'PRT000300', status: 400, text: 'Request body is required.' },
  MissingProperty: { code: 'PRT000301', status: 400, text: 'Property is required.' },
  InvalidType: { code: 'PRT000302', status: 400, text: 'Property has the wrong type.' },
  UnsupportedProperty: { code: 'PRT000303', status: 400, text: 'Property is not supported.' },
  InvalidValue: { code: 'PRT000304', status: 400, text: 'Property has an invalid value.' },
  EmptyCollection: { code: 'PRT000306', status: 400, text: 'Collection must contain at least one element.' },
  MalformedJson: { code: 'PRT000309', status: 400, text: 'Request body is not valid JSON.' },
  HubNameExists: { code: 'PRT000600', status: 400, text: 'A hub with this name already exists.' },
  HubNotFound: { code: 'PRT000699', status: 404, text: 'Hub not found.' },
  IntegrationNameExists: {
    code: 'PRT000700',
    status: 400,
    text: 'An integration with this name already exists.',
  },
  IntegrationNotFound: { code: 'PRT000799', status: 404, text: 'Integration not found.' },
  // engine
  ConversationBodyMissing: { code: 'ENG003000', status: 400, text: 'Conversation request body is required.' },
  ConversationMissingProperty: {
    code: 'ENG003001',
    status: 400,
    text: 'Conversation request is missing a required property.',
  },
  ConversationInvalidGuid: {
    code: 'ENG003002',
    status: 400,
    text: 'Conversation request parameter must be a GUID.',
  },
  ConversationInvalidProperty: {
    code: 'ENG003003',
    status: 400,
    text: 'Conversation request property has an invalid value.',
  },
  ActivityBodyMissing: { code: 'ENG005000', status: 400, text: 'Activity body is required.' },
  ActivityMissingProperty: { code: 'ENG005001', status: 400, text: 'Property is required.' },
  ActivityUnsupportedProperty: { code: 'ENG005002', status: 400, text: 'Property is not supported.' },
  ActivityNeedsMessageOrEvent: {
    code: 'ENG005003',
    status: 400,
    text: 'Must contain root.message or root.event.',
  },
  ActivityMessageXorEvent: {
    code: 'ENG005004',
    status: 400,
    text: 'May contain only one of root.message or root.event.',
  },
  ActivityEmptyCollection: {
    code: 'ENG005015',
    status: 400,
    text: 'Collection must contain at least one element.',
  },
  ActivityInvalidGuid: { code: 'ENG005020', status: 400, text: 'Invalid GUID.' },
  ActivityLocation: {
    code: 'ENG005024',
    status: 400,
    text: 'A location needs an address or latitude and longitude.',
  },
  SenderNotAllowed: { code: 'ENG005025', status: 400, text: 'The sender cannot submit this activity.' },
  EngineHubNotFound: { code: 'ENG005500', status: 404, text: 'Hub does not exist.' },
  EngineIntegrationNotFound: { code: 'ENG006000', status: 404, text: 'Integration does not exist.' },
  ConversationNotFound: { code: 'ENG006500', status: 404, text: 'Conversation not found.' },
  ConversationClosed: { code: 'ENG006502', status: 400, text: 'Conversation integration terminated.' },
  DeliveryNotFound: { code: 'ENG007404', status: 404, text: 'Delivery not found.' },
  UnreachableEndpoint: { code: 'ENG007512', status: 400, text: 'Unreachable web-endpoint detected on hub.' },
} as const;

export type ErrorName = keyof typeof ErrorCodes;

/** Numeric part of a catalogue code: PRT000301 -> 301, ENG005003 -> 5003. */
export function numericCode(code: string): number {
  return Number(code.slice(3));
}

export function errorItem(name: ErrorName, detail?: string): ErrorItem {
  const entry = ErrorCodes[name];
  const text = detail ?? entry.text;
  return { code: numericCode(entry.code), description: `${text} (code: ${entry.code})` };
}

/** A start refused by the environment (a file in use, a path that cannot be opened): one line, no stack. */
export class OperationalError extends Error {
  readonly operational = true;
}

/** A failure with a known code; the API maps it to `{status, errors}`. */
export class HooksterError extends Error {
  readonly status: number;
  readonly errors: ErrorItem[];
  constructor(status: number, errors: ErrorItem[]) {
    super(errors.map((e) => e.description).join('; '));
    this.name = 'HooksterError';
    this.status = status;
    this.errors = errors;
  }

  static of(name: ErrorName, detail?: string): HooksterError {
    return new HooksterError(ErrorCodes[name].status, [errorItem(name, detail)]);
  }

  /** 400 with every problem listed. */
  static invalid(items: ErrorItem[]): HooksterError {
    return new HooksterError(400, items);
  }
}
