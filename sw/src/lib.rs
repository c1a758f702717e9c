//! phasegen host side: CLI commands, UART client, reports.
