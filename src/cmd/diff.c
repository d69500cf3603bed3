#include "cmd.h"
#include "base/error.h"
int cmd_diff(int argc, char **argv)
{
	lh_die("not yet");
}
