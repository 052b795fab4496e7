#!/usr/bin/env node
// DuckDB baseline for moescope's benchmark: what a data engineer writes instead of moescope.
// Reads a llama-server expert-selection CSV log (`layer_id,expert_ids` header, records like
// `12,52 40 85 110 79 113 60 130`) with read_csv and computes, in DuckDB SQL:
//
//   --query counts    hits per (layer, expert) (string_split + unnest + GROUP BY layer,
//                     expert) and tokens (records) per layer: the `moescope analyze
//                     --analytics counts` figures (less the weight mass, which a selection
//                     log does not carry).
//   --query standard  counts plus co-occurrence: records of the layer whose top-k holds both
//                     e1 and e2, per (layer, e1 < e2): each record's id list unnested twice
//                     (a lateral self-product of the list, x < y) and grouped. The closest
//                     SQL equivalent of `--analytics standard` (counts + EMA +
//                     co-occurrence). Fastest of the forms tried on a 40 MB slice, 2 threads
//                     (INTEGER ids): lateral unnest 1.5-1.8 s; nested list comprehension
//                     [[x * 65536 + y for y in ex if y > x] for x in ex] 3.2 s; the same over
//                     sorted lists 2.8 s; index-pair list_transform 3.9 s; self-join of the
//                     unnested rows on a record id 3.6 s; unnest of list_filter 34 s.
//
// Not computed, so DuckDB's `standard` does less work than moescope's: the EMA
// (docs/FIGURES.md "EMA", ema_e <- d ema_e + (1 - d) x_e per record of the layer, in file
// order). It has no simple SQL equivalent: a recursion over ingest order; its closed form
// (1 - d) sum_t d^(T - t) x_e,t needs each record's ordinal within its layer in file order,
// which read_csv does not expose, so it takes an order-preserving row number plus a
// partitioned window over every record. Nor does it validate records as moescope does
// (duplicate ids, id range, top-k changes): malformed lines are just dropped.
//
// Non-record lines (other llama-server output, a repeated header) are dropped by the typed
// read (layer_id USMALLINT, ignore_errors); a line with an integer layer but ids that are
// not integers fails the query (CAST, not TRY_CAST). Ids and layers as USMALLINT (moescope
// allows layers < 1024 and ids < 4096): 10-15 % faster than INTEGER for the pairs (6.1-6.8
// s against 7.3-7.9 s on 160 MB, 2 threads), within noise for counts. Counts: the id lists
// cast once in a MATERIALIZED CTE shared by the aggregates was the fastest form tried
// (1.2-1.5 s on 160 MB, 2 threads), ahead of one scan with a marker id per record for the
// token count (1.9 s), of grouping the VARCHAR ids (1.9 s) and of TRY_CAST on a VARCHAR
// layer column (1.8 s, hits only). Pre-aggregating identical top-k sets does not pay: of
// the 1,431,922 records of a 40 MB slice, 1,429,567 (layer, id set)s are distinct.
//
//   node bench/duckdb/baseline.mjs FILE --threads N --query counts|standard [--dump DIR]
//
// Prints one JSON line: seconds = wall time of the query (reading and parsing the file,
// aggregating, and reading every result chunk into the client, not converted to JS
// values), startup_seconds = creating the DuckDB instance and connection (not in seconds),
// rows = result rows (hits rows + per-layer token rows + pair rows), threads (DuckDB's
// `threads` setting, checked), query, duckdb_version. --dump DIR also writes hits.csv
// (layer, expert, hits), tokens.csv (layer, tokens) and, for standard, pairs.csv (layer,
// e1, e2, count) for bench/duckdb/check.py; dumping is not timed.
// Install: bench/setup (runs npm ci in bench/duckdb).
import { DuckDBInstance, version } from "@duckdb/node-api";

function usage(msg) {
    if (msg) console.error("baseline.mjs: " + msg);
    console.error("usage: node bench/duckdb/baseline.mjs FILE --threads N --query counts|standard [--dump DIR]");
    process.exit(2);
}

const args = process.argv.slice(2);
let file = null, threads = 1, query = "counts", dump = null;
for (let i = 0; i < args.length; ++i) {
    const a = args[i];
    if (a === "--threads") threads = parseInt(args[++i], 10);
    else if (a === "--query") query = args[++i];
    else if (a === "--dump") dump = args[++i];
    else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("--")) usage("unknown option " + a);
    else if (file === null) file = a;
    else usage("one FILE only");
}
if (!file) usage("FILE missing");
if (!(threads >= 1)) usage("--threads must be >= 1");
if (query !== "counts" && query !== "standard") usage("--query is counts or standard");

const sqlString = (s) => "'" + s.replaceAll("'", "''") + "'";

// One scan of the file: each record's layer and its ids as a USMALLINT list, materialized
// so the hits, tokens and pairs aggregates below share it instead of reading the file 2-3x.
const records = `
    SELECT layer_id AS layer, CAST(string_split(expert_ids, ' ') AS USMALLINT[]) AS ex
    FROM read_csv(${sqlString(file)}, auto_detect = false, header = true, delim = ',',
                  quote = '', escape = '',
                  columns = {'layer_id': 'USMALLINT', 'expert_ids': 'VARCHAR'},
                  ignore_errors = true)
    WHERE expert_ids IS NOT NULL`;

const hits = `SELECT 'hits' AS kind, layer, expert AS a, NULL::USMALLINT AS b, count(*) AS n
    FROM (SELECT layer, unnest(ex) AS expert FROM rec) GROUP BY layer, expert`;
const tokens = `SELECT 'tokens' AS kind, layer, NULL::USMALLINT, NULL::USMALLINT, count(*) FROM rec GROUP BY layer`;
const pairs = `SELECT 'pairs' AS kind, layer, x, y, count(*)
    FROM rec, unnest(ex) AS t1(x), unnest(ex) AS t2(y) WHERE x < y
    GROUP BY layer, x, y`;

const sql = `WITH rec AS MATERIALIZED (${records})
    ${hits}
    UNION ALL ${tokens}
    ${query === "standard" ? "UNION ALL " + pairs : ""}`;

const t0 = performance.now();
const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
const con = await instance.connect();
const t1 = performance.now();
const reader = await con.runAndReadAll(sql);
const t2 = performance.now();
const rows = reader.currentRowCount;

const setThreads = (await con.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
if (Number(setThreads) !== threads) {
    console.error(`baseline.mjs: DuckDB runs ${setThreads} threads, not ${threads}`);
    process.exit(1);
}

if (dump) {
    const fs = await import("node:fs");
    const path = await import("node:path");
    fs.mkdirSync(dump, { recursive: true });
    const out = { hits: ["layer,expert,hits"], tokens: ["layer,tokens"], pairs: ["layer,e1,e2,count"] };
    for (const [kind, layer, a, b, n] of reader.getRows()) {
        if (kind === "hits") out.hits.push(`${layer},${a},${n}`);
        else if (kind === "tokens") out.tokens.push(`${layer},${n}`);
        else out.pairs.push(`${layer},${a},${b},${n}`);
    }
    for (const k of query === "standard" ? ["hits", "tokens", "pairs"] : ["hits", "tokens"])
        fs.writeFileSync(path.join(dump, k + ".csv"), out[k].join("\n") + "\n");
}

console.log(JSON.stringify({
    seconds: (t2 - t1) / 1000,
    startup_seconds: (t1 - t0) / 1000,
    rows,
    threads,
    query,
    duckdb_version: version(),
}));
