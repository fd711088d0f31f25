/**
 * A family converter that throws on an event shape it does not expect: the translated stream still
 * ends well formed — what was said before, one error event of our wording, `[DONE]` — instead of
 * erroring the body with the converter's exception text.
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
