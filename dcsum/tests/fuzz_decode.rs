//! Fuzzing every decoder of `dcsum decode` on the stable toolchain (no cargo-fuzz): over a
//! million seeded inputs, each fed to every message type's [`MessageType::decode_to_json`].
//!
//! The inputs are random byte strings of varied lengths, random well-formed field sequences, and
//! mutations of valid encodings (the fixtures another protobuf implementation wrote, see
//! `tests/fixtures/reference-wire.txt`): bit flips, truncation, byte insertion and deletion, field
//! tags corrupted, varints made overlong or overflowing, length prefixes past the end, fields
//! repeated, unknown fields (groups too) inserted, nesting hundreds deep, field values replaced,
//! splices, and any of these applied inside a nested message with its length fixed up.
//!
//! Every decoding must return, never panic; an error must name the message type; a success must
//! read back: its JSON encodes to bytes that decode to the same JSON (as JSON values). Each case
//! has its own RNG seeded from the run seed and the case number, so a failure replays alone:
//! the failure message prints `DCSUM_FUZZ_SEED` and `DCSUM_FUZZ_CASE` to set.
//! `DCSUM_FUZZ_CASES` changes the number of inputs (default 1,000,000, each through all thirteen
//! decoders). The cases are split over up to four threads; which thread runs a case changes
//! nothing about it.

use dcsum::messages::{parse_hex, MessageType};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};

const DEFAULT_SEED: u64 = 0x0dc5_f022_2026_0005;
const DEFAULT_CASES: u64 = 1_000_000;

const FIXTURES: &str = include_str!("../../tests/fixtures/reference-wire.txt");

/// Valid encodings to mutate, by message type: the fixtures another implementation wrote.
struct Corpus {
    by_type: Vec<Vec<Vec<u8>>>,
    all: Vec<Vec<u8>>,
}

impl Corpus {
    fn load() -> Corpus {
        let mut by_type = vec![Vec::new(); MessageType::ALL.len()];
        let mut all = Vec::new();
        for line in FIXTURES.lines().filter(|line| !line.starts_with('#')) {
            let columns: Vec<&str> = line.split('\t').collect();
            let kind: MessageType = columns[1].parse().unwrap();
            let bytes = parse_hex(columns[2]).unwrap();
            by_type[kind as usize].push(bytes.clone());
            all.push(bytes);
        }
        for kind in MessageType::ALL {
            assert!(
                !by_type[kind as usize].is_empty(),
                "no fixture of {kind} to mutate"
            );
        }
        Corpus { by_type, all }
    }

    fn seed(&self, rng: &mut ChaCha8Rng, kind: MessageType) -> Vec<u8> {
        // Mostly the target type's encodings, sometimes any type's (the layouts overlap).
        let pool = if rng.random_ratio(4, 5) {
            &self.by_type[kind as usize]
        } else {
            &self.all
        };
        pool[rng.random_range(0..pool.len())].clone()
    }
}

// ---- A little protobuf wire toolkit, for mutations that keep or break structure on purpose ----

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0_u64;
    for (i, &byte) in bytes.get(at..)?.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((value, at + i + 1));
        }
    }
    None
}

/// One field of a message: where its tag starts, where its value starts (after the tag, and
/// after the length prefix for wire type 2), and where it ends.
#[derive(Clone, Copy, Debug)]
struct Field {
    start: usize,
    tag_end: usize,
    value_start: usize,
    end: usize,
    wire_type: u8,
}

/// The top-level fields of `bytes`, as far as they parse (groups are not descended into).
fn fields(bytes: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some((tag, tag_end)) = read_varint(bytes, at) else {
            break;
        };
        let wire_type = (tag & 7) as u8;
        let (value_start, end) = match wire_type {
            0 => match read_varint(bytes, tag_end) {
                Some((_, end)) => (tag_end, end),
                None => break,
            },
            1 => (tag_end, tag_end + 8),
            2 => match read_varint(bytes, tag_end) {
                Some((length, value_start)) => match value_start.checked_add(length as usize) {
                    Some(end) => (value_start, end),
                    None => break,
                },
                None => break,
            },
            5 => (tag_end, tag_end + 4),
            _ => (tag_end, tag_end),
        };
        if end > bytes.len() {
            break;
        }
        out.push(Field {
            start: at,
            tag_end,
            value_start,
            end,
            wire_type,
        });
        at = end;
    }
    out
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// One of the length-delimited fields (wire type 2); the caller has checked there is one.
fn pick_delimited(rng: &mut ChaCha8Rng, fields: &[Field]) -> Field {
    let delimited: Vec<Field> = fields
        .iter()
        .copied()
        .filter(|f| f.wire_type == 2)
        .collect();
    pick(rng, &delimited)
}

/// Random bytes, as many as a random pick from `lengths`.
fn random_bytes(rng: &mut ChaCha8Rng, lengths: std::ops::RangeInclusive<usize>) -> Vec<u8> {
    let mut bytes = vec![0; rng.random_range(lengths)];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// A value that is often an edge: 0, 1, the top of each width, a sign bit, or random.
fn edge_u64(rng: &mut ChaCha8Rng) -> u64 {
    const EDGES: [u64; 14] = [
        0,
        1,
        2,
        7,
        127,
        128,
        u32::MAX as u64,
        1 << 31,
        1 << 32,
        1 << 63,
        u64::MAX,
        u64::MAX - 1,
        i32::MIN as i64 as u64,
        i64::MAX as u64,
    ];
    match rng.random_range(0..EDGES.len() + 3) {
        i if i < EDGES.len() => EDGES[i],
        i if i == EDGES.len() => rng.random(),
        i if i == EDGES.len() + 1 => rng.random::<u32>().into(),
        _ => rng.random_range(0..16),
    }
}

/// A `float`'s bits, often an edge: NaN (quiet and signalling), the infinities, -0.0, the
/// smallest subnormal.
fn edge_f32_bits(rng: &mut ChaCha8Rng) -> u32 {
    const EDGES: [u32; 6] = [
        0x7fc0_0000,
        0x7f80_0001,
        0x7f80_0000,
        0xff80_0000,
        0x8000_0000,
        1,
    ];
    match rng.random_range(0..EDGES.len() + 1) {
        i if i < EDGES.len() => EDGES[i],
        _ => rng.random(),
    }
}

fn field_number(rng: &mut ChaCha8Rng) -> u64 {
    match rng.random_range(0..10) {
        0..=5 => rng.random_range(1..=11),
        6 => rng.random_range(12..=64),
        7 => pick(
            rng,
            &[0, (1 << 29) - 1, 1 << 29, u64::from(u32::MAX) >> 3, 19_000],
        ),
        _ => rng.random_range(1..(1 << 29)),
    }
}

/// A random, mostly well-formed field sequence (the decoders' success paths, with random values).
fn random_fields(rng: &mut ChaCha8Rng, depth: u32, out: &mut Vec<u8>) {
    for _ in 0..rng.random_range(0..8) {
        let number = field_number(rng);
        let wire_type = pick(rng, &[0, 0, 0, 2, 2, 2, 1, 5, 3, 4, 6, 7]);
        varint(number << 3 | wire_type, out);
        match wire_type {
            0 => varint(edge_u64(rng), out),
            1 => out.extend_from_slice(&rng.random::<u64>().to_le_bytes()),
            5 => out.extend_from_slice(&edge_f32_bits(rng).to_le_bytes()),
            2 => {
                let mut inner = Vec::new();
                match rng.random_range(0..4) {
                    0 if depth < 4 => random_fields(rng, depth + 1, &mut inner),
                    1 => inner = random_bytes(rng, 0..=23),
                    2 => {
                        inner.extend_from_slice(pick(rng, &["orders", "节点", "", "é"]).as_bytes())
                    }
                    _ => inner = vec![0xff, 0xfe],
                }
                varint(inner.len() as u64, out);
                out.extend_from_slice(&inner);
            }
            3 => {
                // A group: fields, then the matching end-group tag (sometimes a wrong one).
                if depth < 4 {
                    random_fields(rng, depth + 1, out);
                }
                let end = if rng.random_ratio(7, 8) {
                    number
                } else {
                    number + 1
                };
                varint(end << 3 | 4, out);
            }
            _ => {}
        }
    }
}

/// Encodes `value` as a varint of exactly `length` bytes (overlong when longer than needed);
/// more than ten bytes is not a varint any decoder may accept.
fn overlong(value: u64, length: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(length);
    let mut rest = value;
    for i in 0..length {
        let last = i + 1 == length;
        let low = (rest & 0x7f) as u8;
        rest >>= 7;
        out.push(if last { low } else { low | 0x80 });
    }
    out
}

/// Applies one mutation to `bytes`, in place.
fn mutate(
    rng: &mut ChaCha8Rng,
    corpus: &Corpus,
    kind: MessageType,
    bytes: &mut Vec<u8>,
    depth: u32,
) {
    let fields = fields(bytes);
    let field = (!fields.is_empty()).then(|| fields[rng.random_range(0..fields.len())]);
    match rng.random_range(0..15) {
        // Bit flips.
        0 if !bytes.is_empty() => {
            for _ in 0..rng.random_range(1..=4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] ^= 1 << rng.random_range(0..8);
            }
        }
        // Truncation.
        1 if !bytes.is_empty() => bytes.truncate(rng.random_range(0..bytes.len())),
        // Byte insertion.
        2 => {
            let at = rng.random_range(0..=bytes.len());
            let inserted = random_bytes(rng, 1..=4);
            bytes.splice(at..at, inserted);
        }
        // Byte deletion.
        3 if !bytes.is_empty() => {
            let at = rng.random_range(0..bytes.len());
            let end = (at + rng.random_range(1..=4)).min(bytes.len());
            bytes.drain(at..end);
        }
        // Field-tag corruption: a random number and wire type (field number 0, numbers past
        // 2^29 - 1 and wire types 6 and 7 are invalid).
        4 if field.is_some() => {
            let field = field.unwrap();
            let mut tag = Vec::new();
            varint(field_number(rng) << 3 | rng.random_range(0..8), &mut tag);
            bytes.splice(field.start..field.tag_end, tag);
        }
        // Varint overlong (still valid up to ten bytes) or overflowing (eleven or more, or a
        // tenth byte above 1), in a tag, a value or a length.
        5 if field.is_some() => {
            let field = field.unwrap();
            let (range, value) = match rng.random_range(0..2) {
                0 => (
                    field.start..field.tag_end,
                    read_varint(bytes, field.start).unwrap().0,
                ),
                _ if field.wire_type == 0 || field.wire_type == 2 => {
                    let (value, end) = read_varint(bytes, field.tag_end).unwrap();
                    (field.tag_end..end, value)
                }
                _ => (
                    field.start..field.tag_end,
                    read_varint(bytes, field.start).unwrap().0,
                ),
            };
            let replacement = match rng.random_range(0..3) {
                0 => overlong(value, rng.random_range(range.len().max(1)..=10)),
                1 => overlong(value, rng.random_range(11..=14)),
                _ => {
                    let mut overflow = vec![0xff; 9];
                    overflow.push(rng.random_range(2..=0x7f));
                    overflow
                }
            };
            bytes.splice(range, replacement);
        }
        // A length prefix pointing past the end (or at an absurd size).
        6 if fields.iter().any(|field| field.wire_type == 2) => {
            let field = pick_delimited(rng, &fields);
            let past = (bytes.len() - field.value_start) as u64 + rng.random_range(1..1000);
            let length = pick(rng, &[past, u64::MAX, 1 << 31, 1 << 32, i64::MAX as u64]);
            let mut prefix = Vec::new();
            varint(length, &mut prefix);
            bytes.splice(field.tag_end..field.value_start, prefix);
        }
        // A field repeated (messages merge, scalars last-win, repeated fields append).
        7 if field.is_some() => {
            let field = field.unwrap();
            let copy = bytes[field.start..field.end].to_vec();
            for _ in 0..rng.random_range(1..=3) {
                let at = pick(rng, &[field.start, field.end, bytes.len()]);
                bytes.splice(at..at, copy.iter().copied());
            }
        }
        // Unknown fields inserted (groups too).
        8 => {
            let mut unknown = Vec::new();
            random_fields(rng, 0, &mut unknown);
            let at = pick(rng, &[0, bytes.len(), field.map_or(0, |field| field.end)]);
            bytes.splice(at..at, unknown);
        }
        // Deep nesting: wrapped in a length-delimited field many times over, or inside a chain
        // of start-group tags (prost's recursion limit must stop it without overflowing the
        // stack).
        9 => {
            let levels: usize = pick(rng, &[2, 10, 99, 100, 101, 500, 3000]);
            if rng.random_bool(0.5) {
                // The headers innermost first (each length covers everything inside it), then
                // written outermost first: one copy of the message, not one per level.
                let number = rng.random_range(1..=6);
                let mut headers = Vec::with_capacity(levels);
                let mut length = bytes.len() as u64;
                for _ in 0..levels {
                    let mut header = Vec::new();
                    varint(number << 3 | 2, &mut header);
                    varint(length, &mut header);
                    length += header.len() as u64;
                    headers.push(header);
                }
                let mut wrapped: Vec<u8> = headers.into_iter().rev().flatten().collect();
                wrapped.append(bytes);
                *bytes = wrapped;
            } else {
                let number = rng.random_range(12..=20);
                let mut nested = Vec::new();
                for _ in 0..levels {
                    varint(number << 3 | 3, &mut nested);
                }
                nested.extend_from_slice(bytes);
                if rng.random_bool(0.8) {
                    for _ in 0..levels {
                        varint(number << 3 | 4, &mut nested);
                    }
                }
                *bytes = nested;
            }
        }
        // A field's value replaced, keeping the structure valid (edge numbers, NaN floats, bad
        // UTF-8, unknown enumeration numbers).
        10 if field.is_some() => {
            let field = field.unwrap();
            let mut value = Vec::new();
            match field.wire_type {
                0 => varint(edge_u64(rng), &mut value),
                1 => value.extend_from_slice(&edge_u64(rng).to_le_bytes()),
                5 => value.extend_from_slice(&edge_f32_bits(rng).to_le_bytes()),
                2 => {
                    let payload = random_bytes(rng, 0..=15);
                    varint(payload.len() as u64, &mut value);
                    value.extend_from_slice(&payload);
                }
                _ => {}
            }
            let start = if field.wire_type == 2 {
                field.tag_end
            } else {
                field.value_start
            };
            bytes.splice(start..field.end, value);
        }
        // Splices: another valid encoding before or after (merging two messages).
        11 => {
            let other = corpus.seed(rng, kind);
            if rng.random_bool(0.5) {
                bytes.extend_from_slice(&other);
            } else {
                bytes.splice(0..0, other);
            }
        }
        // A field removed whole.
        12 if field.is_some() => {
            let field = field.unwrap();
            bytes.drain(field.start..field.end);
        }
        // Any mutation inside a nested message, with its length prefix fixed up.
        _ if depth < 3 && fields.iter().any(|field| field.wire_type == 2) => {
            let field = pick_delimited(rng, &fields);
            let mut inner = bytes[field.value_start..field.end].to_vec();
            mutate(rng, corpus, kind, &mut inner, depth + 1);
            let mut replacement = Vec::new();
            varint(inner.len() as u64, &mut replacement);
            replacement.extend_from_slice(&inner);
            bytes.splice(field.tag_end..field.end, replacement);
        }
        // The chosen mutation did not apply (no field, empty input): a random byte appended.
        _ => bytes.push(rng.random()),
    }
}

/// The input of case `case`, aimed at `kind` (mutations start from its encodings).
fn input(rng: &mut ChaCha8Rng, corpus: &Corpus, kind: MessageType) -> Vec<u8> {
    match rng.random_range(0..100) {
        // Random bytes, mostly short (where most of the decoders' branches are), some long.
        0..15 => {
            let lengths = match rng.random_range(0..10) {
                0..5 => 0..=8,
                5..9 => 0..=64,
                _ => 0..=1024,
            };
            random_bytes(rng, lengths)
        }
        // A random field sequence.
        15..25 => {
            let mut bytes = Vec::new();
            random_fields(rng, 0, &mut bytes);
            bytes
        }
        // A valid encoding, unchanged now and then, else with one to four mutations.
        _ => {
            let mut bytes = corpus.seed(rng, kind);
            for _ in 0..rng.random_range(0..=4) {
                mutate(rng, corpus, kind, &mut bytes, 0);
            }
            bytes
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks one decoder on one input: `Err(description)` if it misbehaved.
fn check(kind: MessageType, bytes: &[u8], deep: bool) -> Result<bool, String> {
    let decoded = catch_unwind(AssertUnwindSafe(|| kind.decode_to_json(bytes)))
        .map_err(|_| format!("{kind} decoding panicked"))?;
    let json = match decoded {
        Err(error) if error.message.contains(kind.message_name()) => return Ok(false),
        Err(error) => {
            return Err(format!(
                "{kind}: the error does not name the message: {error}"
            ))
        }
        Ok(json) => json,
    };
    if deep {
        let value = |text: &str| -> Result<serde_json::Value, String> {
            serde_json::from_str(text)
                .map_err(|error| format!("{kind}: output is not JSON: {error}"))
        };
        let again = catch_unwind(AssertUnwindSafe(|| {
            kind.encode_json(&json)
                .and_then(|bytes| kind.decode_to_json(&bytes))
        }))
        .map_err(|_| format!("{kind}: reading its JSON back panicked: {json}"))?
        .map_err(|error| format!("{kind}: its JSON does not read back: {error}: {json}"))?;
        // As JSON values, not texts: prost drops the sign of a `-0.0` float when it encodes
        // (tests/wire.rs), and only a zero's sign tells "-0.0" from "0.0" apart.
        if again != json && value(&again)? != value(&json)? {
            return Err(format!(
                "{kind}: JSON changed on the way back:\n{json}\n{again}"
            ));
        }
    }
    Ok(true)
}

/// What one run of cases saw: per decoder (in `MessageType::ALL` order) how many inputs it
/// decoded and how many it rejected, or the first case that misbehaved.
struct Tally {
    decoded: Vec<u64>,
    rejected: Vec<u64>,
    failure: Option<(u64, String)>,
}

/// Runs the cases of `cases` that `thread` of `threads` owns (every `threads`-th one), stopping
/// at the first failure.
fn run(
    seed: u64,
    cases: std::ops::Range<u64>,
    thread: u64,
    threads: u64,
    corpus: &Corpus,
) -> Tally {
    let types = MessageType::ALL;
    let mut tally = Tally {
        decoded: vec![0; types.len()],
        rejected: vec![0; types.len()],
        failure: None,
    };
    for case in cases.filter(|case| case % threads == thread) {
        // Each case its own stream, so one replays without the ones before it (and the split
        // over threads changes nothing).
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(case);
        let target = types[(case % types.len() as u64) as usize];
        let bytes = input(&mut rng, corpus, target);
        for kind in types {
            // The JSON read-back for the type the input was made for; the plain decoding (no
            // panic, Ok or an error naming the message) for every type.
            match check(kind, &bytes, kind == target) {
                Ok(true) => tally.decoded[kind as usize] += 1,
                Ok(false) => tally.rejected[kind as usize] += 1,
                Err(problem) => {
                    let report = format!(
                        "{problem}\ninput ({} bytes): {}\nreplay: DCSUM_FUZZ_SEED={seed:#x} \
                         DCSUM_FUZZ_CASE={case} cargo test -p dcsum --test fuzz_decode",
                        bytes.len(),
                        hex(&bytes)
                    );
                    tally.failure = Some((case, report));
                    return tally;
                }
            }
        }
    }
    tally
}

#[test]
fn every_decoder_survives_a_million_random_and_mutated_inputs() {
    let seed = env_u64("DCSUM_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let only = env_u64("DCSUM_FUZZ_CASE");
    let cases = env_u64("DCSUM_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let range = match only {
        Some(case) => case..case + 1,
        None => 0..cases,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4)) as u64;
    let corpus = Corpus::load();
    let started = std::time::Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (range, corpus) = (range.clone(), &corpus);
                scope.spawn(move || run(seed, range, thread, threads, corpus))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    // The lowest failing case, whichever thread found it, so a failure reads the same each run.
    if let Some((_, report)) = tallies
        .iter()
        .filter_map(|tally| tally.failure.as_ref())
        .min_by_key(|(case, _)| *case)
    {
        panic!("{report}");
    }
    let types = MessageType::ALL;
    let total = |pick: fn(&Tally) -> &Vec<u64>, kind: MessageType| -> u64 {
        tallies.iter().map(|tally| pick(tally)[kind as usize]).sum()
    };
    let inputs = range.end - range.start;
    eprintln!(
        "{inputs} inputs x {} decoders in {elapsed:.1?} on {threads} threads (seed {seed:#x})",
        types.len()
    );
    for kind in types {
        let ok = total(|tally| &tally.decoded, kind);
        let err = total(|tally| &tally.rejected, kind);
        eprintln!(
            "  {:<36} {ok:>8} decoded {err:>8} rejected",
            kind.message_name()
        );
        assert_eq!(
            ok + err,
            inputs,
            "{kind}: every input reached every decoder"
        );
        if only.is_none() && cases >= DEFAULT_CASES {
            // The generator must reach both outcomes of every decoder in earnest, or the
            // million inputs test less than they seem to.
            assert!(
                ok >= cases / 20 && err >= cases / 20,
                "{kind}: {ok} decoded, {err} rejected"
            );
        }
    }
}

#[test]
fn the_mutations_make_what_they_claim() {
    // The toolkit itself: overlong varints still read, overflowing ones do not, and `fields`
    // finds every field of a known encoding.
    let mut bytes = Vec::new();
    varint(300, &mut bytes);
    assert_eq!(bytes, [0xac, 0x02]);
    assert_eq!(read_varint(&overlong(300, 10), 0), Some((300, 10)));
    assert_eq!(read_varint(&overlong(300, 11), 0), None);
    let corpus = Corpus::load();
    let heartbeat = &corpus.by_type[MessageType::HeartBeatRequest as usize][0];
    let found: Vec<(u64, u8)> = fields(heartbeat)
        .iter()
        .map(|field| {
            (
                read_varint(heartbeat, field.start).unwrap().0 >> 3,
                field.wire_type,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (1, 2),
            (2, 2),
            (3, 2),
            (4, 2),
            (4, 2),
            (4, 2),
            (5, 0),
            (6, 2),
            (7, 0),
            (8, 0),
            (9, 0),
            (10, 0)
        ]
    );
    // Deep nesting past prost's recursion limit is an error, not a stack overflow.
    let mut nested = Vec::new();
    for _ in 0..100_000 {
        varint(15 << 3 | 3, &mut nested);
    }
    for kind in MessageType::ALL {
        let error = kind.decode_to_json(&nested).unwrap_err();
        assert!(error.message.contains(kind.message_name()), "{error}");
    }
}
