/**
 * Legacy Shared Albums (the `sharedstreams` web service): the seeded albums (service.ts), the HTTP
 * endpoints (router.ts), who may call them (admission.ts) and the control routes (control.ts).
 */
export { admitSharedStreams } from './admission.ts';
export { handleSharedStreamsControl } from './control.ts';
export { handleSharedStreams, sharedStreamsEndpointKey } from './router.ts';
export { SharedStreams } from './service.ts';
