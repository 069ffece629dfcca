/*
 * protos.c: the gRPC services whose messages netcourse can name.
 *
 * The course's .proto files live in lessons/proto/; CMake compiles each
 * with protoc-c into protobuf-c descriptors (message and field names,
 * numbers, types, nested message types). This table lists their services,
 * one line each: a gRPC message on path /PACKAGE.SERVICE/METHOD is then
 * walked with the method's input (request) or output (response) message,
 * so its fields carry their names (protobuf.c). A method not found here is
 * walked without a schema.
 */
#include "proto.h"
#include "stream.h"

#include "echo.pb-c.h"
#include "todo.pb-c.h"

#include <string.h>

static const ProtobufCServiceDescriptor *const nc_protos_services[] = {
    &netcourse__demo__echo__descriptor,
    &netcourse__todo__todos__descriptor,
};

const ProtobufCMessageDescriptor *nc__protos_find(const char *path, bool request)
{
    /* "/netcourse.demo.Echo/Say": the service's full name, then the method. */
    if (path == NULL || path[0] != '/')
        return NULL;
    const char *slash = strchr(path + 1, '/');
    if (slash == NULL)
        return NULL;
    size_t sl = (size_t)(slash - path - 1);
    for (size_t i = 0; i < sizeof nc_protos_services / sizeof nc_protos_services[0]; i++) {
        const ProtobufCServiceDescriptor *s = nc_protos_services[i];
        if (strlen(s->name) != sl || strncmp(s->name, path + 1, sl) != 0)
            continue;
        for (unsigned m = 0; m < s->n_methods; m++)
            if (strcmp(s->methods[m].name, slash + 1) == 0)
                return request ? s->methods[m].input : s->methods[m].output;
    }
    return NULL;
}

const ProtobufCMessageDescriptor *nc_protos_message(const char *path, bool request)
{
    return nc__protos_find(path, request);
}
