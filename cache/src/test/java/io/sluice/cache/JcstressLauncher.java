package io.sluice.cache;

import org.openjdk.jcstress.infra.runners.TestList;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Runs jcstress for the build (see cache/pom.xml), refusing to pass vacuously: jcstress
 * itself prints "FATAL: No matching tests." and exits 0 when the selector matches nothing (for
 * instance when the annotation processor did not run and no test list was generated). Failed or
 * erroneous tests make jcstress's main throw ("TEST FAILURES"), which exits this JVM with 1.
 * The arguments are jcstress's own; {@code -t <regexp>} selects tests as jcstress does ({@code find}).
 */
public final class JcstressLauncher {
    private JcstressLauncher() {
    }

    public static void main(String[] args) throws Exception {
        String selector = ".*";
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-t")) {
                selector = args[i + 1];
            }
        }
        Pattern pattern = Pattern.compile(selector);
        List<String> selected = TestList.tests().stream().filter(t -> pattern.matcher(t).find()).sorted().toList();
        if (selected.isEmpty()) {
            System.err.println("jcstress: no test matches '" + selector + "' in the generated test list ("
                    + TestList.LIST + "); is the jcstress annotation processor on the test-compile processor path?");
            System.exit(2);
        }
        System.out.println("jcstress: " + selected.size() + " tests selected: " + String.join(", ", selected));
        org.openjdk.jcstress.Main.main(args);
    }
}
