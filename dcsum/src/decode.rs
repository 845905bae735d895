//! `dcsum decode [--type T] [--hex] FILE|-`: decodes one protobuf wire message (see the library's
//! `wire` module for the field numbers) and prints it as JSON with the reference system's field
//! names. `T` is a short name (`update`, `heartbeat-request`, ...) or a protobuf message name
//! (`DispatcherSetChecksumUpdateRequest`, `HeartBeatRequest`, ...), in any case; the table of
//! both is `dcsum::messages`, and `dcsum decode --help` prints it.
//!
//! Exit codes: 0 the message was printed; 2 a usage error, an input that cannot be read, bad hex,
//! or bytes that are not a valid message of the type (`dcsum: FILE: what was wrong` on stderr,
//! nothing on stdout).

use dcsum::messages::{parse_hex, MessageType};
use std::error::Error;
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The message type, by short name or protobuf message name (`--help` lists them).
    #[arg(
        long = "type",
        short = 't',
        value_name = "T",
        default_value = "update",
        long_help = MessageType::help()
    )]
    kind: MessageType,

    /// The input is hex text (white space allowed) rather than raw bytes.
    #[arg(long)]
    hex: bool,

    /// The file holding the message; `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    input: String,
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn Error>> {
    let name = if args.input == "-" {
        "<stdin>"
    } else {
        args.input.as_str()
    };
    let mut bytes = Vec::new();
    let read = if args.input == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(&args.input).and_then(|mut file| file.read_to_end(&mut bytes))
    };
    read.map_err(|error| format!("{name}: cannot read: {error}"))?;
    if args.hex {
        let text =
            std::str::from_utf8(&bytes).map_err(|_| format!("{name}: --hex input is not text"))?;
        bytes = parse_hex(text).map_err(|error| format!("{name}: {error}"))?;
    }
    let json = args
        .kind
        .decode_to_json(&bytes)
        .map_err(|error| format!("{name}: {error}"))?;
    writeln!(std::io::stdout().lock(), "{json}")?;
    Ok(ExitCode::SUCCESS)
}
