#include "cmd.h"
#include "base/error.h"
int cmd_summary(int argc, char **argv)
{
	lh_die("not yet");
}
