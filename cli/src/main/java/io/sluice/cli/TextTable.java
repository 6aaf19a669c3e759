package io.sluice.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: columns padded to their widest cell, two spaces apart; notes under a row. */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final List<List<String>> notes = new ArrayList<>();

    TextTable(String... header) {
        add(header);
    }

    /** Appends a row; cells beyond the header's are ignored, missing ones are blank. */
    TextTable add(String... cells) {
        rows.add(cells);
        notes.add(new ArrayList<>());
        return this;
    }

    /** Prints {@code "  ! note"} under the last row. */
    TextTable note(String note) {
        notes.get(notes.size() - 1).add(note);
        return this;
    }

    /** {@return the rows rendered, each line ending in a newline, no trailing blanks} */
    String render() {
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < Math.min(columns, row.length); i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            String[] row = rows.get(r);
            for (int i = 0; i < columns; i++) {
                String cell = i < row.length ? row[i] : "";
                line.append(cell);
                if (i < columns - 1) {
                    line.append(" ".repeat(widths[i] - cell.length() + 2));
                }
            }
            sb.append(line.toString().stripTrailing()).append('\n');
            for (String note : notes.get(r)) {
                sb.append("  ! ").append(note).append('\n');
            }
        }
        return sb.toString();
    }
}
