/*
 * replay_main.c: runs a libFuzzer harness over files, without libFuzzer.
 *
 * Each argument is a file or a directory (read recursively, in sorted order);
 * every regular file is handed to LLVMFuzzerTestOneInput once. A harness may
 * also define NcFuzzFile(path, data, size) to treat whole capture files
 * specially (for example to split a pcap into packets); it is used for files
 * ending in .pcap or .pcapng when present. Prints one line per directory and
 * a final count; a crash or sanitizer report fails the test by itself.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int NcFuzzFile(const char *path, const uint8_t *data, size_t size) __attribute__((weak));

static unsigned long nc_files;

static int nc_is_capture(const char *path)
{
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".pcap") == 0) ||
           (n > 7 && strcmp(path + n - 7, ".pcapng") == 0);
}

static void nc_replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    if (NcFuzzFile && nc_is_capture(path))
        NcFuzzFile(path, buf, (size_t)n);
    else
        LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    nc_files++;
}

static int nc_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void nc_replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        nc_replay_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (count + 1) * sizeof(*names));
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof(*names), nc_cmp);
    for (size_t i = 0; i < count; i++) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, names[i]);
        nc_replay_path(full);
        free(names[i]);
    }
    free(names);
    printf("replayed %s\n", path);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        nc_replay_path(argv[i]);
    printf("%lu passed, 0 failed\n", nc_files);
    return 0;
}
