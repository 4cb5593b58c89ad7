"""The headless skin: `outbound-console` commands over the application layer (`console.app`).

Kept light: `console.launch` starts the console without importing click, and importing this
package must not change that (click comes with `console.cli.main`)."""
