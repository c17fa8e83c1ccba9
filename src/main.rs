use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Before any file is made: the data directory is private to this account.
    casework::private::private_umask();
    let cli = casework::cli::Cli::parse();
    match casework::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // Errors here are about configuration, files and connections; they
            // never carry record content.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
