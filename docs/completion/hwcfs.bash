# hwcfs.bash - bash completion for hwcfs: flags, the comma-separated -o
# options (and their values), profile names from the config file's
# [sections], and directories for the mount point.
# shellcheck shell=bash

# Options that take a value end with "=": no space is added after them.
# The list is that of `hwcfs --help` (tests/integration/test_admin.py
# checks it).
_hwcfs_options="region= project_id= iotda_endpoint= instance_id=
rfs_endpoint= iam_endpoint= cache_ttl= negative_ttl= timeout= retries=
auth_hold= readahead= cafile= audit_log= signing= kinds= rmdir_cascade
dry_run min_age= max_deletes= protect= ro parallel_list no_parallel_list
config= profile=
_netdev nofail auto noauto user users nouser defaults allow_other
default_permissions auto_unmount fsname= subtype= max_threads=
max_idle_threads= clone_fd"

# The config file: config= on the line, else the one hwcfs would read.
_hwcfs_config_file()
{
	local line=$1 file=""

	if [[ $line =~ (^|[[:space:],]|-o)config=([^,[:space:]]+) ]]; then
		file=${BASH_REMATCH[2]}
		[[ $file == "~/"* ]] && file=$HOME/${file#"~/"}
	elif [[ -n ${HWCFS_CONFIG-} ]]; then
		file=$HWCFS_CONFIG
	elif [[ ${XDG_CONFIG_HOME-} == /* ]]; then
		file=$XDG_CONFIG_HOME/hwcfs/config
	elif [[ -n ${HOME-} ]]; then
		file=$HOME/.config/hwcfs/config
	fi
	printf '%s' "$file"
}

# One profile name a line: the [sections] of the config file.
_hwcfs_profiles()
{
	local file=$1 line name

	[[ -n $file && -r $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line#"${line%%[![:space:]]*}"}
		[[ $line == \[*\]* ]] || continue
		name=${line#\[}
		name=${name%%\]*}
		name=${name#"${name%%[![:space:]]*}"}
		name=${name%"${name##*[![:space:]]}"}
		[[ -n $name ]] && printf '%s\n' "$name"
	done <"$file"
}

_hwcfs()
{
	local line tok before prev cur lead="" body head item key val cfg c
	local -a cands=() words=()
	local i npos=0 skip=0 check=0

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	# bash splits words at "=" and ":"; work on the whole space-separated
	# token and answer only for the part bash will replace (cur).
	line=${COMP_LINE:0:COMP_POINT}
	[[ -z $line ]] && line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
	tok=${line##*[[:space:]]}
	before=${line%"$tok"}
	read -r -a words <<<"$before"
	prev=""
	((${#words[@]})) && prev=${words[${#words[@]} - 1]}
	cfg=$(_hwcfs_config_file "$before")

	if [[ $prev == -o || $tok == -o?* ]]; then
		[[ $prev != -o ]] && lead=-o
		body=${tok#"$lead"}
		head=""
		item=$body
		if [[ $body == *,* ]]; then
			head=${body%,*},
			item=${body##*,}
		fi
		if [[ $item == *=* ]]; then
			key=${item%%=*}
			val=${item#*=}
			case $key in
			signing)
				mapfile -t cands < <(compgen -W "auto sdk v11" -- "$val") ;;
			kinds)
				# the name after the last ':' of the list
				local done=""
				[[ $val == *:* ]] && done=${val%:*}:
				mapfile -t cands < <(compgen -P "$done" -W "all packages providers modules hooks templates" -- "${val##*:}") ;;
			profile)
				mapfile -t cands < <(compgen -W "$(_hwcfs_profiles "$cfg")" -- "$val") ;;
			config | cafile | audit_log)
				mapfile -t cands < <(compgen -f -- "$val") ;;
			esac
			for c in "${cands[@]}"; do
				COMPREPLY+=("$lead$head$key=$c")
			done
		else
			for c in $(compgen -W "$_hwcfs_options" -- "$item"); do
				COMPREPLY+=("$lead$head$c")
			done
			compopt -o nospace 2>/dev/null
		fi
		lead=${tok%"$cur"}
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$lead"}
		done
		return 0
	fi

	if [[ $tok == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
			"-f -d -s -o -h --help -V --version --check" -- "$tok")
		return 0
	fi

	# Positional arguments already given: [PROFILE] MOUNTPOINT, or
	# --check [PROFILE].
	for ((i = 1; i < ${#words[@]}; i++)); do
		if ((skip)); then
			skip=0
		elif [[ ${words[i]} == -o ]]; then
			skip=1
		elif [[ ${words[i]} == --check ]]; then
			check=1
		elif [[ ${words[i]} != -* ]]; then
			npos=$((npos + 1))
		fi
	done
	if ((npos == 0)); then
		mapfile -t COMPREPLY < <(compgen -W "$(_hwcfs_profiles "$cfg")" -- "$cur")
	fi
	if ((npos < 2 && !check)); then
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null
	fi
	return 0
}

complete -F _hwcfs hwcfs
