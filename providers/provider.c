#include "providers/provider.h"

#include <string.h>

#include "providers/aws/aws.h"

static const struct tm_provider *const s_providers[] = {
    &tm_aws_provider,
    NULL,
};

const struct tm_provider *const *tm_providers(void) {
    return s_providers;
}

const struct tm_provider *tm_provider_find(const char *name) {
    for (const struct tm_provider *const *p = s_providers; *p; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}
