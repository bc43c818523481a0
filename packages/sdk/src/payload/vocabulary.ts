// Hubster's wire vocabulary (hubster-wire §1.4, §2): the one list of every enum value, shared by the
// SDK's payload parser and the engine's input validation.

export const INTEGRATION_TYPES = ['None', 'Hubster', 'Customer', 'Agent', 'Bot', 'System'] as const;
export const CHANNEL_TYPES = [
  'Hubster',
  'Direct',
  'Bot',
  'System',
  'Messenger',
  'TwilioSMS',
  'Line',
  'Telegram',
  'Kik',
  'WebChat',
  'Slack',
] as const;
export const FLOW_PROCESSES = ['Default', 'AutoReplay', 'Ignore', 'LogOnly'] as const;
export const URL_TYPES = ['image', 'youtube', 'vimeo', 'video', 'audio'] as const;
export const EVENT_TYPES = ['seen', 'typing_on', 'typing_off', 'payload'] as const;
export const ACTION_TYPES = ['postback', 'reply', 'link'] as const;
export const MESSAGE_TYPES = [
  'text',
  'youtube',
  'vimeo',
  'video',
  'audio',
  'image',
  'attachment',
  'location',
  'contact',
  'card',
  'carousel',
  'list',
  'command',
] as const;

/** True for a message type this SDK types; the engine may deliver others, reduced to `{type}`. */
export function isKnownMessageType(type: string): type is (typeof MESSAGE_TYPES)[number] {
  return (MESSAGE_TYPES as readonly string[]).includes(type);
}
