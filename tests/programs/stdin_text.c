//! stdin: It was the best of times, it was the worst of times,
//! stdin: it was the age of wisdom, it was the age of foolishness,
//! stdin: it was the epoch of belief, it was the epoch of incredulity,
//! stdin:
//! stdin: it was the season of Light, it was the season of Darkness.
//! stdin:    Indented line	with a tab and trailing spaces   
/* A text filter over standard input, read byte by byte with getchar into
 * a growing buffer: counts lines, words and bytes like wc, ranks word
 * frequencies (strtok, tolower, qsort), and echoes each line reversed and
 * ROT13-encoded. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word {
    char text[32];
    int count;
};

static int by_count_then_text(const void *a, const void *b) {
    const struct word *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->text, y->text);
}

int main(void) {
    size_t capacity = 16, length = 0;
    char *text = malloc(capacity);
    int c;
    while ((c = getchar()) != EOF) {
        if (length + 1 >= capacity) text = realloc(text, capacity *= 2);
        text[length++] = (char)c;
    }
    text[length] = 0;

    size_t lines = 0, words = 0;
    int in_word = 0;
    for (size_t i = 0; i < length; i++) {
        lines += text[i] == '\n';
        if (isspace((unsigned char)text[i])) in_word = 0;
        else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    printf("%zu lines, %zu words, %zu bytes (buffer grew to %zu)\n", lines, words, length, capacity);

    struct word table[64];
    int distinct = 0;
    char *copy = strdup(text);
    for (char *token = strtok(copy, " \t\n,."); token; token = strtok(NULL, " \t\n,.")) {
        char lower[32];
        size_t n = 0;
        for (; token[n] && n < sizeof lower - 1; n++) lower[n] = (char)tolower((unsigned char)token[n]);
        lower[n] = 0;
        int found = 0;
        for (int i = 0; i < distinct && !found; i++)
            if (strcmp(table[i].text, lower) == 0) {
                table[i].count++;
                found = 1;
            }
        if (!found && distinct < 64) {
            strcpy(table[distinct].text, lower);
            table[distinct++].count = 1;
        }
    }
    free(copy);
    qsort(table, (size_t)distinct, sizeof table[0], by_count_then_text);
    printf("%d distinct words; most frequent:", distinct);
    for (int i = 0; i < distinct && i < 8; i++) printf(" %s=%d", table[i].text, table[i].count);
    printf("\n");

    int number = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t n = strlen(line);
        char reversed[256], rot13[256];
        for (size_t i = 0; i < n && i < 255; i++) {
            reversed[i] = line[n - 1 - i];
            char ch = line[i];
            rot13[i] = isalpha((unsigned char)ch) ? (char)((tolower((unsigned char)ch) - 'a' + 13) % 26 + (isupper((unsigned char)ch) ? 'A' : 'a')) : ch;
        }
        reversed[n < 255 ? n : 255] = rot13[n < 255 ? n : 255] = 0;
        number++;
        printf("%d reversed: [%s]\n%d rot13:    [%s]\n", number, reversed, number, rot13);
    }
    free(text);
    return 0;
}
