/**
 * A family converter that throws on an event shape it does not expect: the translated stream still
 * ends well formed — what was said before, one error event of our wording, `[DONE]` — instead of
 * erroring the body with the converter's exception text. A block that is no event at all becomes
 * the family's invalid-event error, which the relay settles as an upstream failure.
 */

import { expect, test } from "bun:test";
import { converterTranslator } from "../../../src/providers/translate-stream.ts";

const body = (text: string): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });

test("a converter throw ends the stream with one error event and [DONE]", async () => {
  const translate = converterTranslator({
    converter: () => ({
      push: (data) => [JSON.stringify({ said: (data as { said: string }).said })],
      finish: () => ["never reached"],
    }),
    invalidJsonError: JSON.stringify({ error: { code: 502, message: "not JSON" } }),
  });
  const out = await new Response(translate(body('data: {"said":"hi"}\n\ndata: null\n\ndata: {"said":"after"}\n\n'))).text();
  expect(out).toBe(
    'data: {"said":"hi"}\n\n' +
      'data: {"error":{"code":502,"type":"api_error","message":"The upstream sent a stream event of a shape the proxy cannot read"}}\n\n' +
      "data: [DONE]\n\n",
  );
});

test("garbage between events is an error event, while comments and keep-alives are skipped", async () => {
  const invalid = JSON.stringify({ error: { code: 502, message: "not an event" } });
  const translate = converterTranslator({
    converter: () => ({ push: (data) => [JSON.stringify(data)], finish: () => [] }),
    invalidJsonError: invalid,
  });
  const out = await new Response(translate(body(': keep-alive\n\ndata: {"said":"hi"}\n\n\u0000\u00ff binary junk\n\ndata: {"said":"after"}\n\n'))).text();
  expect(out).toBe(`data: {"said":"hi"}\n\ndata: ${invalid}\n\ndata: {"said":"after"}\n\ndata: [DONE]\n\n`);
});
