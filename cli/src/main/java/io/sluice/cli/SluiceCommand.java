package io.sluice.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;

/**
 * {@code sluice}: the command line's top level; each verb is a subcommand ({@code ps}, {@code stat}, {@code tail}).
 *
 * <p>Exit status: 0 on success (help and version too), 1 when a command fails at run time (one
 * line on stderr: {@code sluice ps: what went wrong}), 2 on a usage error (picocli's default:
 * the message and the usage on stderr).
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCommand.Version.class,
        subcommands = {PsCommand.class, StatCommand.class, TailCommand.class},
        description = "Looks at the Sluice regions and channels of this machine.")
public final class SluiceCommand implements Runnable {
    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its subcommands and error handling; tests run it in-process. */
    static CommandLine commandLine() {
        return commandLine(Path.of("/proc"));
    }

    /** The command line reading {@code proc} instead of {@code /proc}. */
    static CommandLine commandLine(Path proc) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == PsCommand.class ? type.cast(new PsCommand(proc)) : defaults.create(type);
            }
        };
        return new CommandLine(new SluiceCommand(), factory)
                .setExecutionExceptionHandler((e, cmd, parseResult) -> {
                    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + e);
                    cmd.getErr().flush();
                    return cmd.getCommandSpec().exitCodeOnExecutionException();
                });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command (try: sluice ps, sluice stat SOCKET, sluice tail SOCKET CHANNEL)");
    }

    /** The version from the build ({@code sluice-cli.properties}, filtered by Maven). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = SluiceCommand.class.getResourceAsStream("sluice-cli.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"sluice " + p.getProperty("version", "(unknown version)")};
        }
    }
}
