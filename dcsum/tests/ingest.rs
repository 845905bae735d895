//! The streaming reader (`ingest::fingerprint_reader`, what `dcsum fingerprint` runs) held equal
//! to the simple one (`input::read_records`, then `IdColumns`): the same fingerprint, or the same
//! first error at the same line with the same message, on random and mutated ID lists cut into
//! tiny blocks and chunks so that lines cross every boundary, by the automatic choice and by every
//! available kernel.

use dcsum::ingest::{fingerprint_path_with, fingerprint_reader, Fold, Options, MIN_WINDOW_BYTES};
use dcsum::ingest_measure::ListFile;
use dcsum::input::{
    parse_line_bytes, read_records, IdColumns, MAX_LINE_BYTES, OVERLONG_MEASURE_BYTES, QUOTE_CHARS,
};
use dispatcher_checksum::{ComponentState, DispatcherId, Fingerprint, Kernel, StateSet};
use proptest::prelude::*;
use std::io::Read;

/// What a reader made of an input: the fingerprint, or `(line, message)` of its first error.
type Outcome = Result<Fingerprint, (usize, String)>;

fn simple(input: &[u8], included: StateSet, kernel: Option<Kernel>) -> Outcome {
    let records = read_records(input, "ids").map_err(|error| (error.line, error.message))?;
    let columns = IdColumns::from_records(&records);
    Ok(match kernel {
        None => columns.fingerprint(included),
        Some(kernel) => columns
            .fingerprint_with(kernel, included)
            .expect("only available kernels are tried"),
    })
}

fn streaming(
    reader: impl Read,
    included: StateSet,
    kernel: Option<Kernel>,
    options: Options,
) -> Outcome {
    let fold = match kernel {
        None => Fold::AUTO,
        Some(kernel) => Fold::with(kernel).expect("only available kernels are tried"),
    };
    fingerprint_reader(reader, "ids", included, fold, options).map_err(|error| {
        assert_eq!(error.source, "ids");
        (error.line, error.message)
    })
}

/// A reader that hands out at most `step` bytes per call and, optionally, fails at `fail_at`:
/// short reads as from a pipe, and a failing disk.
struct Trickle<'a> {
    data: &'a [u8],
    at: usize,
    step: usize,
    fail_at: Option<usize>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let end = self.data.len().min(self.at.saturating_add(self.step));
        let end = self.fail_at.map_or(end, |fail| end.min(fail));
        if Some(self.at) == self.fail_at {
            return Err(std::io::Error::other("the disk is on fire"));
        }
        let n = (end - self.at).min(buffer.len());
        buffer[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn uuid_text(id: DispatcherId) -> String {
    id.to_string()
}

fn id_strategy() -> impl Strategy<Value = DispatcherId> {
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(high, low)| DispatcherId::new(high, low)),
        (0u64..4, 0u64..4).prop_map(|(high, low)| DispatcherId::new(high, low)),
    ]
}

fn state_text() -> impl Strategy<Value = String> {
    let state = proptest::sample::select(ComponentState::ALL.to_vec());
    prop_oneof![
        state.clone().prop_map(|s| s.name().to_string()),
        state.clone().prop_map(|s| s.number().to_string()),
        state.prop_map(|s| s.name().to_uppercase()),
        Just("MERGE_READY".to_string()),
        Just("Running".to_string()),
        Just("7".to_string()),
    ]
}

fn blank() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "", "", "", " ", "\t", "  ", " \t ", "\u{a0}", "\u{b}", "\r",
    ])
    .prop_map(str::to_string)
}

/// One line's text, of every form the readers know and some they reject.
fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    let form = prop_oneof![
        8 => id_strategy().prop_map(uuid_text),
        2 => id_strategy().prop_map(|id| uuid_text(id).to_uppercase()),
        1 => (id_strategy(), any::<u64>()).prop_map(|(id, mask)| {
            uuid_text(id)
                .chars()
                .enumerate()
                .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect()
        }),
        2 => (id_strategy(), state_text()).prop_map(|(id, state)| format!("{id} {state}")),
        1 => id_strategy().prop_map(|id| uuid_text(id).replace('-', "")),
        1 => id_strategy().prop_map(|id| format!("{{{id}}}")),
        1 => id_strategy().prop_map(|id| format!("urn:uuid:{id}")),
        6 => (id_strategy(), blank()).prop_map(|(id, gap)| format!("{} {gap}{}", id.high, id.low)),
        1 => id_strategy().prop_map(|id| format!("{:#x} {:#X}", id.high, id.low)),
        2 => (id_strategy(), state_text())
            .prop_map(|(id, state)| format!("{} {} {state}", id.high, id.low)),
        1 => id_strategy().prop_map(|id| format!(r#"{{"low": {}, "high": {}}}"#, id.low, id.high)),
        1 => (id_strategy(), state_text()).prop_map(|(id, state)| {
            format!(r#"{{"high":"{:#x}","low":"{}","state":"{state}"}}"#, id.high, id.low)
        }),
        1 => Just("# a comment 1 2".to_string()),
        2 => Just(String::new()),
        1 => (0u64..4, 0u64..3).prop_map(|(kind, value)| {
            // 20 and more digits: leading zeros, the largest u64, an overflow, and 32-digit
            // columns (which the simple parser reads as simple-form UUIDs, then a state).
            match kind {
                0 => format!("{}{value} 1", "0".repeat(20)),
                1 => format!("18446744073709551615 1844674407370955161{}", value + 5),
                2 => format!("{}{value} Working", "0".repeat(31)),
                _ => format!("{}{value} {value}", "0".repeat(31)),
            }
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).replace('\n', "")),
        1 => (MAX_LINE_BYTES - 40..MAX_LINE_BYTES + 40, 0u8..4).prop_map(|(length, kind)| {
            // Around the length limit: padded valid lines, and junk.
            match kind {
                0 => format!("{:>length$}", "1 2"),
                1 => format!("{}{}", "67e55044-10b1-426f-9247-bb680e5fe0c8", " ".repeat(length)),
                2 => "x".repeat(length),
                _ => format!("{}7", "0".repeat(length)),
            }
        }),
        1 => (2 * MAX_LINE_BYTES..4 * MAX_LINE_BYTES).prop_map(|length| "é".repeat(length / 2)),
    ];
    (blank(), form, blank())
        .prop_map(|(before, text, after)| format!("{before}{text}{after}").into_bytes())
}

/// A mutation of one line: a byte replaced, inserted or deleted, or the line cut short.
#[derive(Clone, Debug)]
enum Mutation {
    None,
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        proptest::sample::select(b"\r-g0 \t#{}\"x:".to_vec()),
        Just(0xff),
        Just(0x80),
        Just(0xc3),
        any::<u8>().prop_filter("not a newline", |b| *b != b'\n'),
    ];
    prop_oneof![
        12 => Just(Mutation::None),
        1 => (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        1 => (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut line: Vec<u8>, mutation: &Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *mutation {
        Mutation::None => {}
        Mutation::Replace(i, byte) if !line.is_empty() => {
            let i = at(i, line.len());
            line[i] = byte;
        }
        Mutation::Insert(i, byte) => {
            let i = at(i, line.len() + 1);
            line.insert(i, byte);
        }
        Mutation::Delete(i) if !line.is_empty() => {
            line.remove(at(i, line.len()));
        }
        Mutation::Truncate(i) => line.truncate(at(i, line.len() + 1)),
        _ => {}
    }
    line
}

/// A whole input: lines, each mutated or not and ended by `\n` or `\r\n`, with or without a final
/// line ending.
fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = (line_strategy(), mutation_strategy(), any::<bool>());
    (proptest::collection::vec(line, 0..40), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut input = Vec::new();
        let count = lines.len();
        for (index, (text, mutation, crlf)) in lines.into_iter().enumerate() {
            input.extend(mutate(text, &mutation));
            if index + 1 < count || final_newline {
                input.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
        }
        input
    })
}

/// A decimal column: random, small, with leading zeros, or 19 to 21 digits around `u64::MAX`.
fn decimal_column() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => any::<u64>().prop_map(|value| value.to_string()),
        1 => (0u64..1000).prop_map(|value| value.to_string()),
        1 => (0usize..20, any::<u32>()).prop_map(|(zeros, value)| format!("{}{value}", "0".repeat(zeros))),
        1 => (0u64..20).prop_map(|above| (u128::from(u64::MAX) + u128::from(above) - 9).to_string()),
        1 => (0u64..10).prop_map(|digit| format!("{}{digit}", "9".repeat(20))),
    ]
}

/// A long list of mostly `HIGH LOW` lines (the vector reader's batches) with the odd other line,
/// blanks, tabs, CRLF, and mutations: the readers must stop at the same line with the same word.
fn decimal_input_strategy() -> impl Strategy<Value = Vec<u8>> {
    let decimal = (
        blank(),
        decimal_column(),
        proptest::sample::select(vec![" ", "\t", "  ", " \t"]),
        decimal_column(),
        blank(),
    )
        .prop_map(|(before, high, gap, low, after)| {
            format!("{before}{high}{gap}{low}{after}").into_bytes()
        });
    long_list_strategy(decimal, 0.5)
}

/// A long list of mostly canonical UUID lines (the AVX-512 reader's batches: runs of lines
/// ended by `\n`, across its batches, blocks and chunks), either case, with the odd other line,
/// CRLF ending and mutation: the readers must stop at the same line with the same word.
fn uuid_input_strategy() -> impl Strategy<Value = Vec<u8>> {
    let uuid = (id_strategy(), proptest::bool::weighted(0.2)).prop_map(|(id, upper)| {
        let text = uuid_text(id);
        if upper { text.to_uppercase() } else { text }.into_bytes()
    });
    long_list_strategy(uuid, 0.03)
}

/// Up to 300 lines, 30 in 31 from `main` and the rest of any form, 1 in 31 mutated, each ended
/// by `\r\n` with probability `crlf` and by `\n` otherwise (1 in 100 by a stray byte instead,
/// which joins it to the next line), with or without a final line ending.
fn long_list_strategy(
    main: impl Strategy<Value = Vec<u8>> + 'static,
    crlf: f64,
) -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        30 => main,
        1 => line_strategy(),
    ];
    let mutation = prop_oneof![
        30 => Just(Mutation::None),
        1 => mutation_strategy(),
    ];
    (
        proptest::collection::vec(
            (
                line,
                mutation,
                proptest::bool::weighted(crlf),
                proptest::option::weighted(0.01, any::<u8>()),
            ),
            0..300,
        ),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut input = Vec::new();
            let count = lines.len();
            for (index, (text, mutation, crlf, stray)) in lines.into_iter().enumerate() {
                input.extend(mutate(text, &mutation));
                if index + 1 < count || final_newline {
                    match stray {
                        Some(byte) => input.push(byte),
                        None if crlf => input.extend_from_slice(b"\r\n"),
                        None => input.push(b'\n'),
                    }
                }
            }
            input
        })
}

/// A long list of canonical `HIGH LOW` lines (`HIGH LOW\n`, one space, nothing else: what the
/// AVX-512 reader converts eight at a time) with the odd line that is not (blanks, tabs, CRLF,
/// short and overflowing columns, other forms) and rare mutations.
fn canonical_input_strategy() -> impl Strategy<Value = Vec<u8>> {
    let canonical = (decimal_column(), decimal_column())
        .prop_map(|(high, low)| format!("{high} {low}\n").into_bytes());
    let decimal = decimal_input_strategy().prop_map(|mut lines| {
        // One of the decimal strategy's lines (or a few), ended.
        lines.truncate(
            lines
                .iter()
                .position(|&byte| byte == b'\n')
                .map_or(lines.len(), |n| n + 1),
        );
        if lines.last() != Some(&b'\n') {
            lines.push(b'\n');
        }
        lines
    });
    let line = prop_oneof![
        60 => (any::<u64>(), any::<u64>())
            .prop_map(|(high, low)| format!("{high} {low}\n").into_bytes()),
        6 => canonical,
        1 => decimal,
        1 => line_strategy().prop_map(|mut line| {
            line.push(b'\n');
            line
        }),
    ];
    let mutation = prop_oneof![
        120 => Just(Mutation::None),
        1 => mutation_strategy(),
    ];
    (
        proptest::collection::vec((line, mutation), 0..600),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut input: Vec<u8> = lines
                .into_iter()
                .flat_map(|(text, mutation)| mutate(text, &mutation))
                .collect();
            if !final_newline && input.last() == Some(&b'\n') {
                input.pop();
            }
            input
        })
}

fn included_strategy() -> impl Strategy<Value = StateSet> {
    prop_oneof![
        Just(StateSet::DEFAULT_INCLUDED),
        Just(StateSet::ALL),
        Just(StateSet::EMPTY),
        proptest::collection::vec(proptest::sample::select(ComponentState::ALL.to_vec()), 0..4)
            .prop_map(StateSet::excluding),
    ]
}

fn kernel_strategy() -> impl Strategy<Value = Option<Kernel>> {
    let available: Vec<Option<Kernel>> = std::iter::once(None)
        .chain(
            Kernel::all()
                .iter()
                .copied()
                .filter(|kernel| kernel.is_available())
                .map(Some),
        )
        .collect();
    proptest::sample::select(available)
}

fn options_strategy() -> impl Strategy<Value = Options> {
    prop_oneof![
        3 => (1usize..64, 1usize..128),
        1 => (64usize..5000, 1usize..2000),
        1 => Just((1 << 21, 1 << 18)),
    ]
    .prop_flat_map(|(block_bytes, chunk_bytes)| {
        (
            any::<bool>(),
            any::<bool>(),
            MIN_WINDOW_BYTES..3 * MIN_WINDOW_BYTES,
        )
            .prop_map(move |(vector, avx512, window_bytes)| Options {
                block_bytes,
                chunk_bytes,
                vector,
                avx512,
                window_bytes,
            })
    })
}

/// The reader of a file by path (memory-mapped windows): `input` written to a temporary file.
fn mapped(input: &[u8], included: StateSet, kernel: Option<Kernel>, options: Options) -> Outcome {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // Removed when dropped, a panicking reader's too.
    let file = ListFile::write(
        &format!(
            "test-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
        input,
    )
    .expect("the temporary directory is writable");
    let fold = match kernel {
        None => Fold::AUTO,
        Some(kernel) => Fold::with(kernel).expect("only available kernels are tried"),
    };
    fingerprint_path_with(file.name(), included, fold, options).map_err(|error| {
        assert_eq!(error.source, file.name());
        (error.line, error.message)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The streaming reader equals the simple one: fingerprint, or first error and its line.
    #[test]
    fn streaming_equals_simple(
        input in input_strategy(),
        included in included_strategy(),
        kernel in kernel_strategy(),
        options in options_strategy(),
        step in prop_oneof![Just(usize::MAX), 1usize..100],
    ) {
        let expected = simple(&input, included, kernel);
        let reader = Trickle { data: &input, at: 0, step, fail_at: None };
        prop_assert_eq!(streaming(reader, included, kernel, options), expected);
    }

    /// A file read by path, through memory-mapped windows a few lines long (lines straddle
    /// every window boundary; bad lines are reworded by the buffered reader from the window's
    /// start): the simple reader's fingerprint, or its first error and line.
    #[test]
    fn mapped_files_equal_simple(
        input in input_strategy(),
        included in included_strategy(),
        kernel in kernel_strategy(),
        options in options_strategy(),
    ) {
        let expected = simple(&input, included, kernel);
        prop_assert_eq!(mapped(&input, included, kernel, options), expected);
    }

    /// Inputs made only of lines the simple parser accepts (every form, states, comments, blank
    /// and padded lines, CRLF or not), so fingerprints, not only first errors, are compared on
    /// long inputs.
    #[test]
    fn valid_lists_give_the_same_fingerprint(
        lines in proptest::collection::vec(
            (
                line_strategy().prop_filter("a line the simple parser reads", |line| {
                    parse_line_bytes(line).is_ok()
                }),
                any::<bool>(),
            ),
            0..300,
        ),
        final_newline in any::<bool>(),
        options in options_strategy(),
        included in included_strategy(),
        kernel in kernel_strategy(),
    ) {
        let mut input = Vec::new();
        for (index, (line, crlf)) in lines.iter().enumerate() {
            input.extend_from_slice(line);
            if index + 1 < lines.len() || final_newline {
                input.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
        }
        let expected = simple(&input, included, kernel);
        prop_assert!(expected.is_ok(), "{:?}", expected);
        prop_assert_eq!(streaming(&input[..], included, kernel, options), expected.clone());
        prop_assert_eq!(mapped(&input, included, kernel, options), expected);
    }

    /// Long runs of decimal `HIGH LOW` lines (the vector reader's batched path: lines across
    /// its batches, blocks and chunks; overflows, 20 and 21 digits, leading zeros, blanks, CRLF,
    /// the odd other form and mutated byte): buffered and mapped, the simple reader's fingerprint
    /// or first error.
    #[test]
    fn decimal_lists_equal_simple(
        input in decimal_input_strategy(),
        included in included_strategy(),
        options in options_strategy(),
    ) {
        let expected = simple(&input, included, None);
        prop_assert_eq!(streaming(&input[..], included, None, options), expected.clone());
        prop_assert_eq!(mapped(&input, included, None, options), expected);
    }

    /// Long runs of canonical `HIGH LOW` lines (the AVX-512 reader's canonical batches: eight
    /// lines converted at once, groups across chunk, window and block ends, runs of 1 to 21
    /// digits, overflows, the odd line of another kind or mutated), with every kernel:
    /// buffered and mapped, the simple reader's fingerprint or first error.
    #[test]
    fn canonical_lists_equal_simple(
        input in canonical_input_strategy(),
        included in included_strategy(),
        kernel in kernel_strategy(),
        options in options_strategy(),
    ) {
        let expected = simple(&input, included, kernel);
        prop_assert_eq!(streaming(&input[..], included, kernel, options), expected.clone());
        prop_assert_eq!(mapped(&input, included, kernel, options), expected);
    }

    /// Long runs of canonical UUID lines (the AVX-512 reader's batches: lines across its
    /// batches, blocks and chunks; either case, the odd CRLF, other form and mutated byte):
    /// buffered and mapped, the simple reader's fingerprint or first error.
    #[test]
    fn uuid_lists_equal_simple(
        input in uuid_input_strategy(),
        included in included_strategy(),
        options in options_strategy(),
    ) {
        let expected = simple(&input, included, None);
        prop_assert_eq!(streaming(&input[..], included, None, options), expected.clone());
        prop_assert_eq!(mapped(&input, included, None, options), expected);
    }

    /// A read that fails part-way is reported at the line it interrupted, as by the simple
    /// reader, after any bad line before it.
    #[test]
    fn read_failures_belong_to_the_interrupted_line(
        input in input_strategy(),
        fail in any::<usize>(),
        options in options_strategy(),
        step in 1usize..100,
    ) {
        let fail_at = if input.is_empty() { 0 } else { fail % input.len() };
        let trickle = |step| Trickle { data: &input, at: 0, step, fail_at: Some(fail_at) };
        let expected = {
            let records = read_records(std::io::BufReader::new(trickle(usize::MAX)), "ids");
            records.map(|records| IdColumns::from_records(&records).fingerprint(StateSet::ALL))
                .map_err(|error| (error.line, error.message))
        };
        prop_assert!(expected.is_err());
        let got = streaming(trickle(step), StateSet::ALL, None, options);
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn an_empty_input_is_the_empty_fingerprint() {
    for options in [
        Options::default(),
        Options {
            block_bytes: 1,
            chunk_bytes: 1,
            ..Options::default()
        },
    ] {
        assert_eq!(
            streaming(&b""[..], StateSet::ALL, None, options),
            Ok(Fingerprint::EMPTY)
        );
        assert_eq!(
            streaming(&b"\n\n# nothing\r\n"[..], StateSet::ALL, None, options),
            Ok(Fingerprint::EMPTY)
        );
    }
}

/// Many lines over many default-sized blocks: the count and the line number of a late error.
#[test]
fn a_late_error_is_numbered_across_blocks() {
    let ids: Vec<DispatcherId> = (0..200_000u64)
        .map(|i| DispatcherId::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), !i))
        .collect();
    let mut input: String = ids.iter().map(|id| format!("{id}\n")).collect();
    let good = streaming(input.as_bytes(), StateSet::ALL, None, Options::default());
    assert_eq!(good, Ok(Fingerprint::of(&ids)));
    input.push_str("67e55044-10b1-426f-9247-bb680e5fe0cz\n");
    input.push_str("1 2\n");
    let bad = streaming(input.as_bytes(), StateSet::ALL, None, Options::default());
    let (line, message) = bad.expect_err("line 200001 is malformed");
    assert_eq!(line, 200_001);
    assert!(message.contains("is not a UUID"), "{message}");
    assert_eq!(
        Err((line, message)),
        simple(input.as_bytes(), StateSet::ALL, None)
    );
}

/// A line far longer than a block: one short error with its length, equal to the simple
/// reader's, whether it ends with `\n`, `\r\n` or the input.
#[test]
fn a_huge_line_gets_a_short_error_with_its_length() {
    let huge = "x".repeat(10 << 20);
    let length = huge.len();
    for ending in ["\n\n3 4\n", "\r\n3 4", ""] {
        let input = format!("1 2\n\n{huge}{ending}");
        let options = Options {
            block_bytes: 1 << 16,
            chunk_bytes: 1 << 12,
            ..Options::default()
        };
        let got = streaming(input.as_bytes(), StateSet::ALL, None, options);
        let (line, message) = got.clone().expect_err("line 3 is too long");
        assert_eq!(line, 3);
        assert!(
            message.starts_with(&format!("line too long ({length} bytes, starting \"xxx")),
            "{message}"
        );
        assert!(message.len() < QUOTE_CHARS + 200, "{message}");
        assert_eq!(got, simple(input.as_bytes(), StateSet::ALL, None));
        assert_eq!(
            mapped(input.as_bytes(), StateSet::ALL, None, Options::default()),
            got
        );
    }
}

/// A reader that never ends a line (`dcsum fingerprint < /dev/zero`) gets an error instead of
/// running forever.
#[test]
fn an_endless_line_stops_at_the_measuring_bound() {
    let endless = std::io::repeat(b'0');
    let (line, message) = streaming(endless, StateSet::ALL, None, Options::default())
        .expect_err("an endless line is too long");
    assert_eq!(line, 1);
    assert!(
        message.starts_with(&format!(
            "line too long (over {OVERLONG_MEASURE_BYTES} bytes, starting \"0000"
        )),
        "{message}"
    );
}

/// A bad line stops the reader: nothing after it is read.
#[test]
fn reading_stops_at_the_first_bad_line() {
    struct Counted<R> {
        inner: R,
        read: std::rc::Rc<std::cell::Cell<usize>>,
    }
    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buffer)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let input = b"bogus\n"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'1', 1))
        .collect::<Vec<u8>>();
    let endless = Counted {
        inner: input.chain(std::io::repeat(b'\n')),
        read: read.clone(),
    };
    let options = Options {
        block_bytes: 1 << 16,
        chunk_bytes: 1 << 12,
        ..Options::default()
    };
    let (line, _) = streaming(endless, StateSet::ALL, None, options).expect_err("line 1 is bad");
    assert_eq!(line, 1);
    // The reader may be a few blocks ahead of the parser when it hears, never further.
    assert!(read.get() <= 8 << 16, "read {} bytes", read.get());
}
