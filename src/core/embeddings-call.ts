/**
 * Embeddings over a provider's keys, for the server's `/v1/embeddings`, the Gemini-native embed
 * methods on a provider that is not Google's, and the library's `embeddings()`: the family's plan
 * (one or more upstream requests per key) run and its OpenAI list answered. `reshape` turns that
 * list into another dialect's answer inside the attempt, so an answer without the vectors asked
 * for rotates like any other failure.
 */

import type { EmbeddingsRequest } from "../formats/openai-requests.ts";
import { networkFailure } from "../providers/classify-failure.ts";
import { attemptJson, type DecodeAnswers } from "../providers/attempts.ts";
import { planOrReject, type CallFace, type ChatAnswer, type ChatRunner, type FailureOf } from "./chat-call.ts";
import type { ModelTarget } from "./resolve-model.ts";

export async function runEmbeddingsCall<C extends ChatRunner<{ ok: false }>>(
  target: ModelTarget,
  body: EmbeddingsRequest,
  face: CallFace<C>,
  reshape?: (list: string) => string | undefined,
): Promise<Extract<ChatAnswer, { kind: "json" }> | FailureOf<C>> {
  const { model } = target;
  const planned = planOrReject(face, () => target.adapter.planEmbeddings(body, model));
  if (!planned.ok) return planned.failure;
  const { plan } = planned;
  const decode: DecodeAnswers = !reshape
    ? plan.decode
    : (answers, headers) => {
        const decoded = plan.decode(answers, headers);
        if (!decoded.ok) return decoded;
        const text = reshape(decoded.text);
        if (text === undefined) return { ok: false, failure: { ...networkFailure("the provider answered embeddings without the expected vectors"), status: 200 } };
        return { ok: true, text, usage: decoded.usage };
      };
  const call = face.open();
  const result = await call.run((lease, controller) => attemptJson(plan.requests(lease.credential), decode, controller, face.timeouts));
  if (!result.ok) return result as FailureOf<C>;
  call.succeed(result.lease, result.value.usage);
  return { ok: true, kind: "json", status: result.value.status, text: result.value.text, trace: result.trace };
}
