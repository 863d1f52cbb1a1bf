/**
 * The `WorkGivenUp` alarm's description is the text of the email a person gets. Since finding 116
 * given-up dead letters move to the failed photos' retry list and leave the dead-letter queue, so
 * the text must not send the person to redrive it by hand: as docs/deploy.md's row says, given-up
 * work needs nothing more once the cause is fixed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise();
});

describe('the WorkGivenUp alarm text', () => {
  it('does not send the person to redrive a dead-letter queue that given-up work has left', () => {
    const all = synth.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const props = all[logicalIdOf(synth.stack, synth.stack.alarms.workGivenUp)]!.Properties;
    const text = String(props['AlarmDescription']);
    expect(text).not.toMatch(/redrive the DLQ by hand/);
    expect(text).toMatch(/retry list/);
    expect(text).toMatch(/nothing more is needed/);
  });
});
