//! What the command-line examples share: the `main` that parses the arguments, runs, and turns
//! a bad argument into exit status 2 and a failed run into exit status 1, each with its message.

/// Parses the arguments with `parse` and runs `run` on them; exits 2 on a usage error and 1 on
/// a failed run, printing the message.
pub fn main_with<A>(parse: fn() -> Result<A, String>, run: fn(&A) -> flowmatch::Result<()>) {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
