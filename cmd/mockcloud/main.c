/* mockcloud: a loopback server answering AWS APIs from fixtures. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("mockcloud %s\n", TM_VERSION);
        return 0;
    }
    fprintf(stderr, "mockcloud: usage: mockcloud --fixtures DIR [--port N]\n");
    return 2;
}
