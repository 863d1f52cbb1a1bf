/**
 * Audit 16 review (scratch evidence): finding 116 moved given-up dead letters to the retry list and
 * deleted them, but the `WorkGivenUp` alarm's description (the text of the email a person gets)
 * still tells them to "redrive the DLQ by hand": the dead-letter queue is empty by then, and
 * docs/deploy.md's row says given-up work "needs nothing more".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise();
});

describe('audit16-review: the WorkGivenUp alarm text after finding 116', () => {
  it('does not send the person to redrive a dead-letter queue that given-up work has left', () => {
    const all = synth.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const props = all[logicalIdOf(synth.stack, synth.stack.alarms.workGivenUp)]!.Properties;
    expect(String(props['AlarmDescription'])).not.toMatch(/redrive the DLQ by hand/);
  });
});
