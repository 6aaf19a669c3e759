package io.sluice.api;

/**
 * The one rule for channel names, applied by the host when a channel is made, by every attaching
 * client before it connects, and by the host to every HELLO: 1 to {@value #MAX_LENGTH} characters,
 * each printable ASCII other than space and {@code '/'} ({@code 0x21..0x7E} without {@code 0x2F}).
 * No control characters, no NUL, nothing a log or a terminal could misread, and always a valid
 * memfd name once prefixed.
 */
public final class ChannelNames {
    /** Longest channel name, in characters (and bytes: the name is ASCII). */
    public static final int MAX_LENGTH = 128;

    private ChannelNames() {
    }

    /**
     * Checks {@code name} against the rule.
     *
     * @return {@code name}
     * @throws IllegalArgumentException saying what is wrong, with the name escaped
     * @param name the proposed channel name, may be null
     */
    public static String validate(String name) {
        String problem = problem(name, MAX_LENGTH);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return name;
    }

    /**
     * What is wrong with {@code name} under the rule with a length limit of {@code maxLength},
     * or null if nothing is. Region names use the same characters with a longer limit.
     *
     * @param name      the proposed name, may be null
     * @param maxLength the longest name allowed, in characters
     * @return the problem in words (the name escaped), or null
     */
    public static String problem(String name, int maxLength) {
        if (name == null || name.isEmpty()) {
            return "channel name must not be empty";
        }
        if (name.length() > maxLength) {
            return "name '" + UntrustedText.escape(name) + "' is " + name.length() + " characters, longer than " + maxLength;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x21 || c > 0x7e || c == '/') {
                return "name '" + UntrustedText.escape(name) + "' must be printable ASCII without spaces or '/': "
                        + "character " + i + " is " + UntrustedText.escape(String.valueOf(c));
            }
        }
        return null;
    }
}
