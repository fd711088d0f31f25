/**
 * Prometheus metrics in the text exposition format (version 0.0.4), kept in plain maps: counters
 * and histograms are updated on the request path with a map lookup and an add; gauges about keys
 * are computed only when `/metrics` is scraped. No client library: the format is small and stable.
 *
 * Model names are chosen by clients, so each provider keeps at most `MAX_MODEL_LABELS` distinct
 * `model` label values; later new names are counted under `model="other"`.
 */

export interface RequestObservation {
  route: string;
  provider: string;
  model: string;
  status: number;
  durationMs: number;
  /** Time until the first byte went to the client (streams), when known. */
  firstByteMs?: number;
}

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

export interface Metrics {
  observeRequest(observation: RequestObservation): void;
  observeAttempt(provider: string, model: string, outcome: string): void;
  observeTokens(provider: string, model: string, kind: "prompt" | "completion" | "cached" | "reasoning", count: number): void;
  /** A route's target was tried: it `served` (or `failed`: the answer the client got), or could not serve and the route `fell_through`. */
  observeRouteTarget(route: string, target: string, outcome: "served" | "failed" | "fell_through"): void;
  inFlight(delta: number): void;
  /** How often each (route, target) had each outcome since start, for `/v1/stats`. */
  routeTargetCounts(): { route: string; target: string; outcome: string; count: number }[];
  /** The exposition text; `gauges` adds scrape-time values (keys by state, …). */
  render(gauges?: Record<string, { help: string; samples: GaugeSample[] }>): string;
}

/** Distinct `model` label values per provider before new ones fold into `OTHER_MODEL`. */
export const MAX_MODEL_LABELS = 200;
export const OTHER_MODEL = "other";

const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

interface Histogram {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

interface Counter {
  labels: Record<string, string>;
  value: number;
}

export function createMetrics(): Metrics {
  const counters = new Map<string, Map<string, Counter>>();
  const histograms = new Map<string, Map<string, Histogram>>();
  const modelLabels = new Map<string, Set<string>>();
  let inFlight = 0;

  // Without the cap, 3,000 distinct 1 KB names made a 70 MB scrape; a name seen before keeps its label.
  const modelLabel = (provider: string, model: string): string => {
    let seen = modelLabels.get(provider);
    if (!seen) modelLabels.set(provider, (seen = new Set()));
    if (seen.has(model)) return model;
    if (seen.size >= MAX_MODEL_LABELS) return OTHER_MODEL;
    seen.add(model);
    return model;
  };

  // Series are keyed by their label values joined with NUL (which real values never contain); the label
  // object is built only the first time a series is seen, so an update is one concatenation, one
  // lookup and an add.
  const add = (name: string, id: string, labels: () => Record<string, string>, value: number): void => {
    let series = counters.get(name);
    if (!series) counters.set(name, (series = new Map()));
    const counter = series.get(id);
    if (counter) counter.value += value;
    else series.set(id, { labels: labels(), value });
  };

  const observe = (name: string, id: string, labels: () => Record<string, string>, seconds: number): void => {
    let series = histograms.get(name);
    if (!series) histograms.set(name, (series = new Map()));
    let histogram = series.get(id);
    if (!histogram) series.set(id, (histogram = { labels: labels(), buckets: LATENCY_BUCKETS_S.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]!) histogram.buckets[i]! += 1;
    histogram.sum += seconds;
    histogram.count += 1;
  };

  return {
    observeRequest(o) {
      const model = modelLabel(o.provider, o.model);
      const id = `${o.route}\0${o.provider}\0${model}`;
      const labels = () => ({ route: o.route, provider: o.provider, model });
      add("llm_proxy_requests_total", `${id}\0${o.status}`, () => ({ ...labels(), status: String(o.status) }), 1);
      observe("llm_proxy_request_duration_seconds", id, labels, o.durationMs / 1000);
      if (o.firstByteMs !== undefined) observe("llm_proxy_time_to_first_byte_seconds", id, labels, o.firstByteMs / 1000);
    },
    observeAttempt(provider, requested, outcome) {
      const model = modelLabel(provider, requested);
      add("llm_proxy_upstream_attempts_total", `${provider}\0${model}\0${outcome}`, () => ({ provider, model, outcome }), 1);
    },
    observeTokens(provider, requested, kind, count) {
      if (count <= 0) return;
      const model = modelLabel(provider, requested);
      add("llm_proxy_tokens_total", `${provider}\0${model}\0${kind}`, () => ({ provider, model, kind }), count);
    },
    observeRouteTarget(route, target, outcome) {
      // Route names and targets are configured, so their label values are bounded.
      add("llm_proxy_route_targets_total", `${route}\0${target}\0${outcome}`, () => ({ route_name: route, target, outcome }), 1);
    },
    inFlight(delta) {
      inFlight += delta;
    },
    routeTargetCounts() {
      return [...(counters.get("llm_proxy_route_targets_total")?.values() ?? [])].map(({ labels, value }) => ({ route: labels.route_name!, target: labels.target!, outcome: labels.outcome!, count: value }));
    },
    render(gauges = {}) {
      const out: string[] = [];
      for (const [name, help] of COUNTER_HELP) {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
        for (const counter of counters.get(name)?.values() ?? []) out.push(`${name}${labelText(counter.labels)} ${counter.value}`);
      }
      for (const [name, help] of HISTOGRAM_HELP) {
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
        for (const histogram of histograms.get(name)?.values() ?? []) {
          LATENCY_BUCKETS_S.forEach((bound, i) => {
            out.push(`${name}_bucket${labelText({ ...histogram.labels, le: String(bound) })} ${histogram.buckets[i]}`);
          });
          out.push(`${name}_bucket${labelText({ ...histogram.labels, le: "+Inf" })} ${histogram.count}`);
          out.push(`${name}_sum${labelText(histogram.labels)} ${histogram.sum}`);
          out.push(`${name}_count${labelText(histogram.labels)} ${histogram.count}`);
        }
      }
      out.push("# HELP llm_proxy_requests_in_flight Requests being served right now.", "# TYPE llm_proxy_requests_in_flight gauge", `llm_proxy_requests_in_flight ${inFlight}`);
      for (const [name, gauge] of Object.entries(gauges)) {
        out.push(`# HELP ${name} ${gauge.help}`, `# TYPE ${name} gauge`);
        for (const sample of gauge.samples) out.push(`${name}${labelText(sample.labels)} ${sample.value}`);
      }
      return `${out.join("\n")}\n`;
    },
  };
}

const COUNTER_HELP: [string, string][] = [
  ["llm_proxy_requests_total", "Proxied requests by route, provider, model and the status the client got."],
  ["llm_proxy_upstream_attempts_total", "Upstream attempts by outcome: ok or the failure class."],
  ["llm_proxy_tokens_total", "Tokens reported by upstreams, by kind."],
  ["llm_proxy_route_targets_total", "Targets of model routes tried, by route, target and outcome (served, failed, fell_through)."],
];

const HISTOGRAM_HELP: [string, string][] = [
  ["llm_proxy_request_duration_seconds", "Time from request to the end of the answer (for streams, the end of the stream)."],
  ["llm_proxy_time_to_first_byte_seconds", "Time from request to the first byte sent to the client."],
];

/** `{a="1",b="2"}` with values escaped by `labelValue`; "" without labels. */
function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([key, value]) => `${key}="${labelValue(value)}"`).join(",")}}`;
}

const LABEL_SPECIAL = /[\\"\n\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

/**
 * A label value as the exposition format requires: `\\`, `\"` and `\n` escaped. The format has no
 * escape for other control characters, and a raw NUL or escape sequence breaks scrapers and
 * terminals, so those become U+FFFD.
 */
export function labelValue(value: string): string {
  return value.replace(LABEL_SPECIAL, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : c === "\n" ? "\\n" : "\uFFFD"));
}
